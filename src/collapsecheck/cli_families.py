"""``--family`` for the commands: options built from the registry, dispatch to a family.

:func:`family_command` wraps a command's declaration (a typer function whose signature
declares the native family's options and whose docstring is the command's help; its body
is empty): it adds ``--family`` and every registered family's own options to the
command's signature (so ``--help`` lists them and typer parses them), checks that each
option given on the command line belongs to the chosen family, and hands the parsed
options to the family's command (``FamilySpec.commands``,
:class:`~collapsecheck.families.protocol.FamilySpec`), the native family's included.
Adding a family changes nothing here.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Annotated

import typer

from collapsecheck.errors import InputError
from collapsecheck.families import FAMILIES, specs

__all__ = ["family_command"]


def _option_parameter(option, family: str) -> inspect.Parameter:
    kind = bool if option.type is bool else option.type | None
    default = False if option.type is bool else option.default
    help_ = f"[{family}] {option.help}"
    return inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(option.flag, help=help_)])


def _family_parameter() -> inspect.Parameter:
    names = " | ".join(FAMILIES)
    annotation = Annotated[str, typer.Option(
        "--family", help=f"Model family: {names}. Options marked [family] belong to it.")]
    return inspect.Parameter("family", inspect.Parameter.KEYWORD_ONLY, default="gaussian",
                             annotation=annotation)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` came from the command line (or the environment), not its
    default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _flag(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


def _named(message: str, params) -> str:
    """Name the options (``--tail-rank``) where a family's library names parameters."""
    for name in sorted(params, key=len, reverse=True):
        message = message.replace(f"`{name}`", _flag(name))
    return message


def family_command(command: str):
    """Decorate the declaration of ``collapsecheck <command>`` (see the module docstring).
    The declaration itself is never called."""

    def decorate(declaration):
        base = inspect.signature(declaration, eval_str=True)
        declared = frozenset(base.parameters)
        all_specs = specs()
        extra: dict[str, inspect.Parameter] = {}  # two families sharing one: declared once
        for s in all_specs:
            for option in s.options:
                if command in option.commands and option.name not in {*declared, *extra}:
                    extra[option.name] = _option_parameter(option, s.name)
        owners = {name: [s.name for s in all_specs if any(o.name == name for o in s.options)]
                  for name in extra}
        parameters = [*base.parameters.values(), _family_parameter(), *extra.values(),
                      inspect.Parameter("family_ctx_", inspect.Parameter.KEYWORD_ONLY,
                                        annotation=typer.Context)]
        signature = base.replace(parameters=parameters)

        @functools.wraps(declaration)
        def wrapper(**kwargs):
            ctx = kwargs.pop("family_ctx_")
            name = kwargs.pop("family")
            if name not in FAMILIES:
                raise InputError(f"--family must be one of {', '.join(FAMILIES)}; "
                                 f"got {name!r}.")
            spec = next(s for s in all_specs if s.name == name)
            for option in kwargs:
                if _given(ctx, option) and not spec.takes(option, declared):
                    owner = owners.get(option) or [
                        s.name for s in all_specs if s.takes(option, declared)]
                    raise InputError(
                        f"{_flag(option)} is an option of the {' and '.join(owner)} "
                        f"{'family' if len(owner) == 1 else 'families'}, not of the {name} "
                        f"family; drop it, or add --family {owner[0]}.")
            if command not in spec.commands:
                takes = [s.name for s in all_specs if command in s.commands]
                raise InputError(f"`collapsecheck {command}` does not take --family {name} "
                                 f"yet; it takes {', '.join(takes)}.")
            if not spec.native and "engine" in kwargs and kwargs["engine"] not in spec.engines:
                raise InputError(f"--engine must be one of {', '.join(spec.engines)} for the "
                                 f"{name} family; got {kwargs['engine']!r}.")
            module, function = spec.commands[command].split(":")
            run = getattr(importlib.import_module(module), function)
            # the native family gets the declared options and checks them all itself
            params = {k: v for k, v in kwargs.items()
                      if (k in declared if spec.native else spec.takes(k, declared))}
            json_ = params.pop("json_", False)
            if spec.native:
                return run(params, json_=json_)
            try:
                return run(params, json_=json_)
            except (TypeError, ValueError) as exc:  # the protocol: bad input, not a bug
                if isinstance(exc, InputError):
                    raise
                raise InputError(_named(str(exc), params)) from None

        wrapper.__signature__ = signature
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        del wrapper.__wrapped__  # typer must see the new signature, not the declaration's
        return wrapper

    return decorate
