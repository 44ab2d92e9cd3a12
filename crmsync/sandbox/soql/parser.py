"""Recursive-descent parser for the SOQL subset the sandbox serves.

Grammar (keywords case-insensitive)::

    query      := SELECT (COUNT '(' ')' | field {',' field}) FROM object
                  [WHERE condition] [ORDER BY key {',' key}] [LIMIT int] [OFFSET int]
    condition  := unary {AND unary} | unary {OR unary}          -- mixing AND/OR needs parentheses, as in SOQL
    unary      := NOT unary | '(' condition ')' | comparison
    comparison := field op value | field [NOT] IN '(' value {',' value} ')' | field LIKE string
    key        := field [ASC | DESC] [NULLS (FIRST | LAST)]
    value      := string | number | date | datetime | TRUE | FALSE | NULL | date literal [':' int]

Anything else (GROUP BY, HAVING, subqueries, TYPEOF, aggregates, bind variables, WITH, FOR, USING SCOPE, ...)
raises SoqlError naming the position and what the subset expected there.
"""

from __future__ import annotations

from crmsync.sandbox.soql.lexer import Token, tokenize
from crmsync.sandbox.soql.model import (
    BoolOp,
    Comparison,
    Condition,
    DateLiteral,
    FieldRef,
    Literal,
    Not,
    OrderItem,
    Query,
    SoqlError,
)

KEYWORDS = frozenset(
    {
        *("SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS"),
        *("FIRST", "LAST", "LIMIT", "OFFSET", "GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF", "INCLUDES"),
        *("EXCLUDES", "TRUE", "FALSE", "NULL"),
    }
)
DATE_LITERALS = frozenset({"YESTERDAY", "TODAY", "TOMORROW"})
DATE_LITERALS_N = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO"})
MAX_OFFSET = 2000
_CLAUSE_WORDS = frozenset({"SELECT", "FROM", "WHERE", "ORDER", "LIMIT", "OFFSET"})
_COMPARE_OPS = frozenset({"=", "!=", "<>", "<", ">", "<=", ">="})
_UNSUPPORTED = {
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "WITH": "WITH",
    "FOR": "FOR VIEW/UPDATE/REFERENCE",
    "USING": "USING SCOPE",
    "TYPEOF": "TYPEOF",
    "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES",
}


def parse(text: str) -> Query:
    """Parse ``text`` into a Query, or raise SoqlError (errorCode MALFORMED_QUERY or NUMBER_OUTSIDE_VALID_RANGE)."""
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.text.upper() in words

    def fail(self, expected: str, token: Token | None = None) -> SoqlError:
        """An 'unexpected token' error at ``token`` (default: the current one) saying what was expected."""
        token = token or self.tok
        found = "<EOF>" if token.kind == "eof" else f"'{token.text}'"
        note = ""
        if token.kind == "ident" and token.text.upper() in _UNSUPPORTED:
            note = f"; {_UNSUPPORTED[token.text.upper()]} is not supported by the crmsync sandbox"
        return SoqlError(self.text, token.pos, f"unexpected token: {found} (expected {expected}{note})")

    def expect_kw(self, word: str, expected: str | None = None) -> Token:
        if not self.is_kw(word):
            raise self.fail(expected or word)
        return self.advance()

    def expect_punct(self, char: str, expected: str | None = None) -> Token:
        if not (self.tok.kind == "punct" and self.tok.text == char):
            raise self.fail(expected or f"'{char}'")
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    # -- clauses -------------------------------------------------------------------------------------------
    def query(self) -> Query:
        self.expect_kw("SELECT")
        count, fields = self.select_list()
        self.expect_kw("FROM", "',' or FROM")
        obj = self.tok
        if obj.kind != "ident" or obj.text.upper() in _CLAUSE_WORDS or "." in obj.text:
            raise self.fail("an object name")
        self.advance()
        where = None
        if self.is_kw("WHERE"):
            self.advance()
            where = self.condition()
        order = self.order_by() if self.is_kw("ORDER") else ()
        limit = self.int_clause("LIMIT") if self.is_kw("LIMIT") else None
        offset = self.int_clause("OFFSET") if self.is_kw("OFFSET") else None
        if offset is not None and offset > MAX_OFFSET:
            raise SoqlError(
                self.text,
                self.tokens[self.i - 1].pos,
                f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                "NUMBER_OUTSIDE_VALID_RANGE",
            )
        if self.tok.kind != "eof":
            raise self.fail(self._rest_expected(where, order, limit, offset))
        return Query(self.text, obj.text, obj.pos, fields, count, where, order, limit, offset)

    @staticmethod
    def _rest_expected(where: object, order: tuple[OrderItem, ...], limit: object, offset: object) -> str:
        """What may follow the clauses seen so far."""
        options = [] if where or order or limit is not None or offset is not None else ["WHERE"]
        options += [] if order or limit is not None or offset is not None else ["ORDER BY"]
        options += [] if limit is not None or offset is not None else ["LIMIT"]
        options += [] if offset is not None else ["OFFSET"]
        return ", ".join([*options, "end of query"])

    def select_list(self) -> tuple[bool, tuple[FieldRef, ...]]:
        if self.is_kw("COUNT") and self.tokens[self.i + 1].text == "(":
            self.advance()
            self.advance()
            self.expect_punct(")", "')' (only COUNT() is supported, not COUNT(field))")
            return True, ()
        fields = [self.select_field()]
        while self.at_punct(","):
            self.advance()
            fields.append(self.select_field())
        seen: set[str] = set()
        for ref in fields:
            key = ref.text.lower()
            if key in seen:
                raise SoqlError(self.text, ref.pos, f"duplicate field selected: {ref.text}")
            seen.add(key)
        return False, tuple(fields)

    def select_field(self) -> FieldRef:
        if self.at_punct("("):
            raise SoqlError(
                self.text, self.tok.pos, "unexpected token: '(' (relationship subqueries are not supported)"
            )
        ref = self.field("a field name")
        if self.at_punct("("):
            raise SoqlError(self.text, ref.pos, f"unexpected token: '(' (function {ref.text}() is not supported)")
        return ref

    def field(self, expected: str) -> FieldRef:
        token = self.tok
        if token.kind != "ident" or token.text.upper() in KEYWORDS:
            raise self.fail(expected)
        self.advance()
        return FieldRef(tuple(token.text.split(".")), token.pos)

    def order_by(self) -> tuple[OrderItem, ...]:
        self.advance()
        self.expect_kw("BY")
        items = [self.order_item()]
        while self.at_punct(","):
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        ref = self.field("a field name")
        descending = False
        if self.is_kw("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_last = False
        if self.is_kw("NULLS"):
            self.advance()
            if not self.is_kw("FIRST", "LAST"):
                raise self.fail("FIRST or LAST")
            nulls_last = self.advance().text.upper() == "LAST"
        return OrderItem(ref, descending, nulls_last)

    def int_clause(self, word: str) -> int:
        self.advance()
        token = self.tok
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.fail(f"a non-negative integer after {word}")
        self.advance()
        return token.value

    # -- conditions ----------------------------------------------------------------------------------------
    def condition(self) -> Condition:
        first = self.unary()
        if not self.is_kw("AND", "OR"):
            return first
        op = self.tok.text.upper()
        parts = [first]
        while self.is_kw("AND", "OR"):
            if self.tok.text.upper() != op:
                raise self.fail(f"{op} or ')' (use parentheses to mix AND and OR)")
            self.advance()
            parts.append(self.unary())
        return BoolOp("AND" if op == "AND" else "OR", tuple(parts))

    def unary(self) -> Condition:
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.unary())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")", "AND, OR or ')'")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        ref = self.field("a field name, NOT or '('")
        token = self.tok
        if token.kind == "op" and token.text in _COMPARE_OPS:
            self.advance()
            return Comparison(ref, "!=" if token.text == "<>" else token.text, self.value())
        if self.is_kw("LIKE"):
            self.advance()
            if self.tok.kind != "string":
                raise self.fail("a string pattern after LIKE")
            return Comparison(ref, "LIKE", self.value())
        if self.is_kw("NOT") and self.tokens[self.i + 1].text.upper() == "IN":
            self.advance()
            self.advance()
            return Comparison(ref, "NOT IN", None, self.value_list())
        if self.is_kw("IN"):
            self.advance()
            return Comparison(ref, "IN", None, self.value_list())
        raise self.fail("=, !=, <>, <, <=, >, >=, LIKE, IN or NOT IN")

    def value_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(", "'(' after IN")
        if self.is_kw("SELECT"):
            raise SoqlError(
                self.text, self.tok.pos, "unexpected token: 'SELECT' (semi-join subqueries are not supported)"
            )
        values = [self.value()]
        while self.at_punct(","):
            self.advance()
            values.append(self.value())
        self.expect_punct(")", "',' or ')'")
        return tuple(values)

    def value(self) -> Literal:
        token = self.tok
        if token.kind == "punct" and token.text == ":":
            raise SoqlError(self.text, token.pos, "unexpected token: ':' (bind variables are not supported)")
        if token.kind in ("string", "number", "date", "datetime"):
            self.advance()
            return Literal(token.value, token.kind, token.pos, token.text)  # type: ignore[arg-type]
        word = token.text.upper() if token.kind == "ident" else ""
        if word in ("TRUE", "FALSE"):
            self.advance()
            return Literal(word == "TRUE", "boolean", token.pos, token.text)
        if word == "NULL":
            self.advance()
            return Literal(None, "null", token.pos, token.text)
        if word in DATE_LITERALS or word in DATE_LITERALS_N:
            return self.date_literal(word)
        raise self.fail("a value: 'string', number, date, datetime, TRUE, FALSE, NULL or a date literal")

    def date_literal(self, word: str) -> Literal:
        token = self.advance()
        if word in DATE_LITERALS:
            return Literal(DateLiteral(word, None), "date_literal", token.pos, token.text)
        self.expect_punct(":", f"':' and a number after {word}")
        number = self.tok
        if number.kind != "number" or not isinstance(number.value, int) or number.value < 0:
            raise self.fail(f"a non-negative integer after {word}:")
        self.advance()
        return Literal(DateLiteral(word, number.value), "date_literal", token.pos, f"{token.text}:{number.text}")
