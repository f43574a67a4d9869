"""Help and usage errors that read like a well-kept command line tool.

Typer renders every parameter's Python type in help (`<bool>` on each flag, `<list[Path]>`,
`<FileBinaryRead>`) and words usage errors with pydantic's messages in a five-line box. The
`tracewarn` command instead shows click's conventional metavars (TEXT, INTEGER, PATH, FILE),
choices as `[a|b|c]`, nothing after a flag, and reports a usage error as the one line every other
error gets: `tracewarn: error: <command>: <what is wrong> (see '<command> --help')`.

`tidy` walks the click command tree Typer built once, before it runs; it changes only how
parameters are displayed, never how they are parsed. Typer ships its own copy of click
(`typer._click`), so the classes come from there, not from the `click` package.
"""

from __future__ import annotations

from typing import Any

from typer import _click as click
from typer._click import exceptions as click_errors
from typer.core import TyperArgument, TyperOption

__all__ = ["tidy", "usage_message"]

_TYPES = {
    "str": "TEXT",
    "int": "INTEGER",
    "int range": "INTEGER",
    "float": "NUMBER",
    "float range": "NUMBER",
    "path": "PATH",
    "list[Path]": "PATH",
    "FileBinaryRead": "FILE",
    "FileText": "FILE",
    "datetime": "DATETIME",
}


def tidy(command: click.Command) -> None:
    """Give every parameter below `command` a conventional display (see the module docstring)."""
    for param in command.params:
        _tidy_param(param)
    make_help_option = command.get_help_option

    def help_option(ctx: click.Context) -> Any:
        # `--help` is made per context, so it is tidied as it is made.
        option = make_help_option(ctx)
        if option is not None:
            _tidy_param(option)
        return option

    object.__setattr__(command, "get_help_option", help_option)
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)


def _tidy_param(param: click.Parameter) -> None:
    # Typer asks the parameter for its type label (`display_type_rich`) in the help panels and
    # for the argument's name in the usage line; answering per instance keeps parsing untouched.
    object.__setattr__(param, "display_type_rich", lambda ctx: _display(param, ctx))
    if isinstance(param, TyperArgument):
        name = (param.metavar or param.name or "ARG").upper().removesuffix("...")
        many = "..." if param.nargs != 1 else ""
        usage = f"{name}{many}" if param.required else f"[{name}]{many}"
        object.__setattr__(param, "_usage_display_name", lambda: usage)
        if param.nargs != 1 and param.metavar is None:
            param.metavar = f"{name}..."


def _display(param: click.Parameter, ctx: click.Context) -> str | None:
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return None
    if isinstance(param, TyperArgument):
        return None  # the argument's name says it
    if param.metavar:
        return param.metavar
    label = _typer_label(param, ctx)
    if label is None:
        return None
    if "|" in label and not label.startswith("list["):
        return f"[{label}]"
    return _TYPES.get(label, label.upper())


def _typer_label(param: click.Parameter, ctx: click.Context) -> str | None:
    if not isinstance(param, TyperOption):
        return None
    try:
        text = param.display_type(ctx)
    except Exception:  # a display quirk must never break help
        return None
    return text.removeprefix("<").removesuffix(">")


def usage_message(exc: click_errors.UsageError) -> str:
    """One line for a usage error (without the `tracewarn: error:` prefix)."""
    path = exc.ctx.command_path if exc.ctx is not None else "tracewarn"
    where = path.removeprefix("tracewarn").strip()
    if isinstance(exc, click_errors.BadParameter) and not isinstance(
        exc, click_errors.MissingParameter
    ):
        what = exc.param_hint or (exc.param.opts[0] if exc.param is not None else "value")
        if isinstance(what, list | tuple):
            what = " / ".join(what)
        message = f"{what}: {_friendly(exc)}"
    else:
        message = exc.format_message()
    prefix = f"{where}: " if where else ""
    return f"{prefix}{message.rstrip('.')} (see '{path} --help')"


def _friendly(exc: click_errors.BadParameter) -> str:
    """Pydantic's validation wording (which Typer passes through) in plain words."""
    errors: Any = getattr(exc.__cause__, "errors", None)
    if not callable(errors):
        return exc.message
    first = errors()[0] if errors() else {}
    kind, ctx, given = first.get("type", ""), first.get("ctx") or {}, first.get("input")
    got = f", got {given!r}" if given is not None else ""
    if kind.startswith("int_"):
        return f"expected a whole number{got}"
    if kind.startswith("float_"):
        return f"expected a number{got}"
    if kind.startswith("bool_"):
        return f"expected true or false{got}"
    if kind in ("enum", "literal_error") and "expected" in ctx:
        return f"expected one of {ctx['expected']}{got}"
    bounds = {
        "greater_than_equal": "at least {ge}",
        "greater_than": "more than {gt}",
        "less_than_equal": "at most {le}",
        "less_than": "less than {lt}",
    }
    if kind in bounds:
        return f"must be {bounds[kind].format(**ctx)}{got}"
    message = str(first.get("msg", exc.message))
    if kind == "value_error":  # Typer's choice check: "'x' is not one of 'a', 'b'." names x
        return message.removeprefix("Value error, ").rstrip(".")
    return message.replace("Input should be", "expected") + got
