"""The template language of prompt templates and copy lines, bounded (B11, B13).

Django template language cut down to what a prompt needs: whitelisted fields, tags and filters
(B11); loops only over list fields and at most two deep; filter arguments checked against a
per-filter spec (a number in range, a short text, or a known field). ``validate_template_body``
runs when a template is saved or previewed and again before every render, so a template saved
before these rules is refused with the same messages. ``template_render`` also counts the
render's steps (loop iterations, conditions, output pieces), its output and its CPU time, and
stops past the limits: a template costs at most a quarter second, never fails with a 500.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import (
    FilterExpression,
    Lexer,
    Node,
    NodeList,
    Parser,
    TokenType,
    VariableDoesNotExist,
)
from django.template.defaulttags import ForNode, IfNode

# Every field a template may use, by root object; the list fields are the ones a loop may use.
FIELDS: dict[str, frozenset[str]] = {
    "brand": frozenset({
        "name", "tone", "style_keywords", "disclaimer", "contact_line", "colors",
        "primary_color", "accent_color", "background_color", "text_color",
    }),
    "product": frozenset({
        "name", "sku", "slogan", "description", "price", "currency", "price_text", "features",
        "brand_name", "sale_price", "product_type", "extra",
    }),
    "campaign": frozenset({"name", "language"}),
    "format": frozenset({"name", "channel", "kind", "width", "height", "orientation"}),
}
LIST_FIELDS = frozenset({"brand.colors", "brand.style_keywords", "product.features"})
# product.extra holds a feed's other attributes; product.extra.<name> reads one (text, or "").
EXTRA_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
LOOP_FIELDS = frozenset({"counter", "counter0", "revcounter", "revcounter0", "first", "last"})
ALLOWED_TAGS = frozenset({
    "if", "elif", "else", "endif", "for", "empty", "endfor", "comment", "endcomment",
    "spaceless", "endspaceless", "firstof",
})
_IF_WORDS = frozenset({"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">="})

MAX_BODY_CHARS = 4000  # as the model field and the forms allow
MAX_LOOP_DEPTH = 2
MAX_TEXT_ARG = 200  # characters of a text argument written in the template
MAX_OUTPUT_CHARS = 8000  # a prompt past ~2,000 characters is cut by the text encoder anyway
MAX_STEPS = 5000  # loop iterations, conditions and output pieces in one render
MAX_RENDER_SECONDS = 0.25  # of CPU; a normal template takes a millisecond


@dataclass(frozen=True)
class FilterArgs:
    """What may follow a filter's colon: nothing, a whole number written in the template
    (``low``..``high``), a slice like ":3", or a text (a literal or a known field)."""

    kind: str = "none"  # "none" | "number" | "slice" | "text"
    required: bool = False
    low: int = 0
    high: int = 0
    suffixes: str = ""  # letters allowed after the number: floatformat's "2g", "-1u"


FILTERS: dict[str, FilterArgs] = {
    **{name: FilterArgs() for name in (
        "upper", "lower", "title", "capfirst", "first", "last", "length", "wordcount")},
    "floatformat": FilterArgs("number", low=-6, high=6, suffixes="gu"),
    "truncatechars": FilterArgs("number", required=True, low=0, high=MAX_BODY_CHARS),
    "truncatewords": FilterArgs("number", required=True, low=0, high=500),
    "slice": FilterArgs("slice", required=True, low=-1000, high=1000),
    "join": FilterArgs("text", required=True),
    "default": FilterArgs("text", required=True),
    "cut": FilterArgs("text", required=True),
    "yesno": FilterArgs("text"),
}

_ENGINE = Engine(
    libraries={},
    builtins=["django.template.defaulttags", "django.template.defaultfilters"],
    autoescape=False,
    string_if_invalid="",
)
_LOOP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SLICE = re.compile(r"(-?\d{1,9})?(?::(-?\d{1,9})?)?(?::(-?\d{1,9})?)?")


class _Checker:
    """One pass over a template's tokens, collecting every problem with a readable message."""

    def __init__(self, body: str):
        self.tokens = Lexer(body).tokenize()
        self.parser = Parser(self.tokens, libraries={}, builtins=_ENGINE.template_builtins)
        self.loops: list[str] = []  # the loop item names in scope, outermost first
        self.errors: list[str] = []

    def run(self) -> list[str]:
        in_comment = False
        for token in self.tokens:
            if in_comment:  # never compiled, never rendered
                in_comment = not (token.token_type == TokenType.BLOCK
                                  and token.contents.strip() == "endcomment")
            elif token.token_type == TokenType.VAR:
                self.expression(token.contents)
            elif token.token_type == TokenType.BLOCK:
                in_comment = self.block(token.split_contents())
        return self.errors

    def block(self, bits: list[str]) -> bool:
        tag = bits[0]
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"Tag '{{% {tag} %}}' is not allowed in prompt templates.")
            if tag == "with":  # name what it would read, too: {% with x=secret %}
                for bit in bits[1:]:
                    self.expression(bit.partition("=")[2] or bit)
        elif tag == "for":
            self.loop(bits)
        elif tag == "endfor" and self.loops:
            self.loops.pop()
        elif tag in {"if", "elif", "firstof"}:
            for bit in bits[1:]:
                if bit not in _IF_WORDS:
                    self.expression(bit)
        return tag == "comment"

    def loop(self, bits: list[str]) -> None:
        # {% for item in product.features %}, optionally "reversed"
        words = bits[:-1] if bits[-1] == "reversed" else bits
        name = words[1].strip(",") if len(words) > 1 else ""
        self.loops.append(name)
        if len(words) != 4 or words[2] != "in" or not _LOOP_NAME.fullmatch(name):
            self.errors.append("A loop reads {% for feature in product.features %}: one plain "
                               "name for the item, then a list field.")
            return
        if name in FIELDS or name == "forloop":
            self.errors.append(f"'{name}' is a field name; call the loop item something else.")
        if len(self.loops) > MAX_LOOP_DEPTH:
            self.errors.append(f"Loops can be nested {MAX_LOOP_DEPTH} deep at most.")
        expression = self.expression(words[3], in_loop_header=True)
        if expression is None:
            return
        lookups = getattr(expression.var, "lookups", None) or ()
        if ".".join(lookups) not in LIST_FIELDS:
            shown = words[3] if len(words[3]) <= 40 else words[3][:37] + "..."
            self.errors.append(f"A loop can only go over a list field "
                               f"({', '.join(sorted(LIST_FIELDS))}), not {shown}.")
        for func, _args in expression.filters:
            if _filter_name(func) != "slice":
                self.errors.append(f"A loop's list can only be cut with slice, not with "
                                   f"'{_filter_name(func)}'.")

    def expression(self, text: str, *, in_loop_header: bool = False) -> FilterExpression | None:
        try:
            expression = FilterExpression(text, self.parser)
        except TemplateSyntaxError as exc:
            self.errors.append(f"Template syntax error: {exc}")
            return None
        for func, args in expression.filters:
            self.filter_args(_filter_name(func), args)
        lookups = getattr(expression.var, "lookups", None)
        if lookups:
            # A loop header may not read its own item: {% for f in f %}.
            self.name(lookups, loops=self.loops[:-1] if in_loop_header else self.loops)
        return expression

    def name(self, lookups, *, loops) -> bool:
        """Whether ``lookups`` is a field this template can read here (else an error)."""
        root, rest = lookups[0], lookups[1:]
        dotted = ".".join(lookups)
        if dotted in {"True", "False", "None"} or (root in loops and not rest):
            return True
        if root == "forloop" and loops and len(rest) == 1 and rest[0] in LOOP_FIELDS:
            return True
        if root == "product" and tuple(rest) == ("extra",):
            self.errors.append("Name one feed attribute: product.extra.color, not product.extra.")
            return False
        if root == "product" and len(rest) == 2 and rest[0] == "extra":
            if EXTRA_KEY.fullmatch(rest[1]):
                return True
            self.errors.append(f"Unknown field '{dotted}': a feed attribute is written in lower "
                               "case letters, digits and _ (product.extra.color).")
            return False
        if root not in FIELDS:
            self.errors.append(f"Unknown field '{dotted}'.")
        elif len(rest) != 1 or rest[0] not in FIELDS[root]:
            self.errors.append(
                f"Unknown field '{dotted}'. {root} has: {', '.join(sorted(FIELDS[root]))}.")
        else:
            return True
        return False

    def filter_args(self, name: str, args: list) -> None:
        spec = FILTERS.get(name)
        if spec is None:
            self.errors.append(f"Filter '{name}' is not allowed.")
            return
        if not args:
            if spec.required:
                self.errors.append(f"Filter '{name}' needs an argument after a colon.")
            return
        if spec.kind == "none":
            self.errors.append(f"Filter '{name}' takes no argument.")
            return
        is_lookup, value = args[0]
        lookups = getattr(value, "lookups", None) if is_lookup else None
        if lookups:  # a variable: known text fields only, and only where a text goes
            dotted = ".".join(lookups)
            if not self.name(lookups, loops=self.loops):
                return
            if spec.kind != "text":
                self.errors.append(f"Filter '{name}' takes a number written in the template, "
                                   f"not the field '{dotted}'.")
            elif dotted in LIST_FIELDS:
                self.errors.append(f"Filter '{name}' takes a text, not the list '{dotted}'.")
            return
        literal = value.literal if is_lookup else value
        if spec.kind == "text":
            if len(str(literal)) > MAX_TEXT_ARG:
                self.errors.append(f"Filter '{name}' takes at most {MAX_TEXT_ARG} characters.")
        elif spec.kind == "number":
            self.number_arg(name, spec, literal)
        elif spec.kind == "slice":
            self.slice_arg(name, spec, str(literal))

    def number_arg(self, name: str, spec: FilterArgs, literal) -> None:
        text = str(literal)
        digits = text.rstrip(spec.suffixes) if spec.suffixes else text
        allowed = f"Filter '{name}' takes a whole number from {spec.low} to {spec.high}"
        if not re.fullmatch(r"-?\d{1,9}", digits) or isinstance(literal, float):
            shown = text if len(text) <= 20 else text[:17] + "..."
            self.errors.append(f"{allowed}, not '{shown}'.")
        elif not spec.low <= int(digits) <= spec.high:
            self.errors.append(f"{allowed}, not {int(digits)}.")

    def slice_arg(self, name: str, spec: FilterArgs, text: str) -> None:
        match = _SLICE.fullmatch(text)
        numbers = [int(n) for n in match.groups() if n] if match else []
        if not match or not text or any(not spec.low <= n <= spec.high for n in numbers) or (
                match.group(3) is not None and int(match.group(3)) == 0):
            self.errors.append(f"Filter '{name}' takes a slice like \":3\" or \"1:4\" with "
                               f"numbers from {spec.low} to {spec.high}.")


def _filter_name(func) -> str:
    return getattr(func, "_filter_name", None) or func.__name__


def _check(body: str) -> Template:
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(f"A template can have at most {MAX_BODY_CHARS} characters "
                              f"(this one has {len(body):,}).", code="template_body")
    errors = _Checker(body).run()
    template = None
    try:
        template = _ENGINE.from_string(body)  # the full grammar: unclosed tags, bad syntax
    except TemplateSyntaxError as exc:
        errors.append(f"Template syntax error: {exc}")
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)), code="template_body")
    return template


def validate_template_body(body: str) -> None:
    """Raise ValidationError listing every disallowed field, tag, filter, loop or filter
    argument in ``body`` (B11, B13)."""
    _check(body)


# --- bounded rendering -------------------------------------------------------------------

class _OverBudget(Exception):
    """A render passed one of its limits."""


class _BudgetContext(Context):
    """A render's context that also counts the render's steps, output and time."""

    def __init__(self, values: dict, *, max_chars: int):
        super().__init__(values, autoescape=False)
        self.max_chars, self.steps, self.chars = max_chars, 0, 0
        self.deadline = time.thread_time() + MAX_RENDER_SECONDS  # CPU, not a busy machine's wait

    def spend(self, *, steps: int = 1, chars: int = 0) -> None:
        self.steps += steps
        self.chars += chars
        if (self.steps > MAX_STEPS or self.chars > self.max_chars
                or time.thread_time() > self.deadline):
            raise _OverBudget


class _Metered(Node):
    """Wraps one node: charges a step before it renders (a condition that writes nothing
    costs too) and, for an output piece (text, a variable, firstof), what it writes."""

    child_nodelists = ()

    def __init__(self, node: Node, *, writes: bool):
        self.node, self.writes, self.token = node, writes, node.token

    def render(self, context):
        context.spend()
        text = self.node.render_annotated(context)
        if self.writes:
            context.spend(steps=0, chars=len(text))
        return text


class _LoopStep(Node):
    """The first node of every loop body: charges one iteration (an empty body too)."""

    child_nodelists = ()

    def __init__(self, token):
        self.token = token

    def render(self, context):
        context.spend()
        return ""


def _meter(nodelist: NodeList) -> None:
    for index, node in enumerate(nodelist):
        if isinstance(node, IfNode):
            children = [branch for _condition, branch in node.conditions_nodelists]
        else:
            children = [getattr(node, attr) for attr in node.child_nodelists
                        if getattr(node, attr, None) is not None]
        for child in children:
            _meter(child)
        if isinstance(node, ForNode):
            node.nodelist_loop.insert(0, _LoopStep(node.token))
        nodelist[index] = _Metered(node, writes=not children)


@lru_cache(maxsize=256)
def _compiled(body: str) -> Template:
    """The checked, metered template for ``body`` (ValidationError when it fails the check)."""
    template = _check(body)
    _meter(template.nodelist)
    return template


def template_render(body: str, values: dict, *, what: str = "The template",
                    max_chars: int = MAX_OUTPUT_CHARS) -> str:
    """``body`` rendered over the plain ``values``, after the same check as at save time.

    Raises ValidationError, with ``what`` ("The headline") as the subject, when the template
    fails the check, takes more than MAX_STEPS steps or MAX_RENDER_SECONDS, writes more than
    ``max_chars`` characters, or a filter fails on the data.
    """
    try:
        template = _compiled(body)
    except ValidationError as exc:
        raise ValidationError(f"{what} needs fixing: {' '.join(exc.messages)}",
                              code="template_body") from None
    context = _BudgetContext(values, max_chars=max_chars)
    try:
        return template.render(context)
    except _OverBudget:
        fewer = "loop over fewer items (e.g. product.features|slice:\":5\")"
        if context.chars > max_chars:
            message = f"{what} gives more than {max_chars:,} characters. Shorten it or {fewer}."
        elif context.steps > MAX_STEPS:
            message = (f"{what} does too much work: more than {MAX_STEPS:,} loop steps, "
                       f"conditions and pieces of text. Nest fewer loops or {fewer}.")
        else:
            message = (f"{what} takes too long to render (over {MAX_RENDER_SECONDS} s). Use "
                       f"fewer filters on long fields, or {fewer}.")
        raise ValidationError(message, code="template_budget") from None
    except (TemplateSyntaxError, VariableDoesNotExist, ArithmeticError, AttributeError,
            ValueError, TypeError) as exc:
        # A filter that fails on this product's data (decimal errors, bad values).
        raise ValidationError(f"{what} could not be rendered: {exc}",
                              code="template_render") from None
