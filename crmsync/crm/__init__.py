"""CRM adapters behind one port (``ports.py``): Salesforce, HubSpot and the in-process sandbox."""
