"""The one config mechanism of both models: frozen (nested) dataclasses, their JSON round trips, and overrides.

A config field is addressed by a dotted key: `train.epochs` is the `epochs` field of the `train` field (a nested
dataclass). A flat config may list its fields under groups (`setting(..., group="train")`) so that the same key
means the same thing in both models; there the bare field name (the name in its config.json) is accepted too.
`override(config, ["train.epochs=5"])` is the `--set KEY=VALUE` path of every command; `add_config_flags` adds
the shorthand flags (`--epochs` = `--set train.epochs=`) with their help and per-preset defaults taken from the
dataclass, so the CLI never repeats a default.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import enum
import functools
import typing
from typing import Any, Iterable, Mapping

from genoscreen.common.errors import InputError


def setting(default: Any = dataclasses.MISSING, help: str = "", *, group: str | None = None, settable: bool = True):
    """A config field with its help text; `group` files a flat config's field under `group.NAME` keys;
    `settable=False` keeps it out of `--set` (e.g. the preset's own name)."""
    return dataclasses.field(default=default, metadata={"help": help, "group": group, "settable": settable})


def preset(presets: Mapping[str, Any], name: str, what: str):
    """`presets[name]`, or an InputError naming the choices (`what`: caller, affinity, pileup)."""
    if name not in presets:
        raise InputError(f"--preset {name}: unknown {what} preset; choose one of {', '.join(presets)}")
    return presets[name]


def to_json_dict(config) -> dict:
    """dataclasses.asdict with tuple fields as lists, so the dict equals its own JSON round trip."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def from_json_dict(cls, data: dict):
    """Build `cls` from a dict read from JSON, turning the lists of tuple-typed fields back into tuples."""
    values = dict(data)
    for field in dataclasses.fields(cls):
        if str(field.type).startswith("tuple") and isinstance(values.get(field.name), list):
            values[field.name] = tuple(values[field.name])
    return cls(**values)


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


class _Key(typing.NamedTuple):
    key: str  # the canonical spelling
    path: tuple[str, ...]  # field names from the top config down
    hint: Any  # the field's annotation
    field: dataclasses.Field


@functools.cache
def _keys(cls) -> dict[str, _Key]:
    """Every key `--set` accepts for `cls`: the canonical keys in field order, then the bare names of grouped
    fields (their names in a flat config.json)."""
    keys, aliases = {}, {}
    for field in dataclasses.fields(cls):
        hint = _hints(cls)[field.name]
        if dataclasses.is_dataclass(hint):
            for sub in _keys(hint).values():
                key = f"{field.name}.{sub.key}"
                keys.setdefault(key, _Key(key, (field.name, *sub.path), sub.hint, sub.field))
        elif field.metadata.get("settable", True):
            group = field.metadata.get("group")
            key = f"{group}.{field.name}" if group else field.name
            keys[key] = _Key(key, (field.name,), hint, field)
            if group:
                aliases[field.name] = keys[key]
    return {**keys, **aliases}


def config_keys(cls) -> list[str]:
    """The canonical keys of `cls` (a config dataclass or instance), in field order."""
    cls = cls if isinstance(cls, type) else type(cls)
    return [key for key, entry in _keys(cls).items() if entry.key == key]


def _lookup(cls, key: str, where: str) -> _Key:
    entry = _keys(cls).get(key)
    if entry is None:
        close = difflib.get_close_matches(key, list(_keys(cls)), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise InputError(f"{where}: unknown key {key!r}; {hint}valid keys: {', '.join(config_keys(cls))}")
    return entry


def _choices(hint) -> dict[str, Any] | None:
    """The values of a Literal or Enum annotation by the names they are written with; None for other types."""
    if typing.get_origin(hint) is typing.Literal:
        return {str(choice): choice for choice in typing.get_args(hint)}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return dict(hint.__members__)
    return None


def _describe(hint) -> str:
    """How a value of this annotation is written on the command line."""
    choices = list(_choices(hint) or ())
    if choices:
        return ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0]
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        n = "" if len(args) == 2 and args[1] is Ellipsis else f"{len(args)} "
        return f"{n}comma-separated values, each {_describe(args[0])}"
    return {int: "an int", float: "a number", bool: "true or false", str: "a string"}.get(hint, str(hint))


def parse_value(hint, text: str):
    """`text` as a value of the annotation `hint` (int, float, bool, str, Literal/Enum choices, tuple[...]),
    or a ValueError saying what was expected."""
    text = text.strip()
    choices = _choices(hint)
    if choices is not None:
        if text in choices:
            return choices[text]
        raise ValueError(f"choose {_describe(hint)}")
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        items = text.split(",") if text else []
        kinds = [args[0]] * len(items) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(kinds) == len(items):
            try:
                return tuple(parse_value(kind, item) for kind, item in zip(kinds, items))
            except ValueError:
                pass
    elif hint is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return lowered in ("true", "1", "yes", "on")
    elif hint in (int, float, str):
        try:
            return hint(text)
        except ValueError:
            pass
    else:
        raise ValueError(f"cannot be set from the command line ({hint})")
    raise ValueError(f"expected {_describe(hint)}")


def parse_settings(cls, items: Iterable[str], flag: str = "--set") -> dict[str, Any]:
    """["train.epochs=5", ...] -> {key: typed value}, or an InputError naming the item and what is valid."""
    out = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise InputError(f"{flag} {item}: expected KEY=VALUE, e.g. {flag} {config_keys(cls)[0]}=...")
        hint = _lookup(cls, key, f"{flag} {item}").hint
        try:
            out[key] = parse_value(hint, text)
        except ValueError as err:
            raise InputError(f"{flag} {key}={text!r}: {err}") from None
    return out


def replace_values(config, changes: Mapping[str, Any]):
    """`config` with the field at each key replaced (values of None are ignored), by dataclasses.replace."""
    nested: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        path = _lookup(type(config), key, key).path
        node = nested
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = value
    return _replace(config, nested)


def _replace(config, nested: dict):
    return dataclasses.replace(config, **{
        name: _replace(getattr(config, name), value) if isinstance(value, dict) else value
        for name, value in nested.items()
    })


def override(config, items: Iterable[str], flag: str = "--set"):
    """`config` with every "KEY=VALUE" of `items` applied, typed from the fields' annotations."""
    changes = parse_settings(type(config), items, flag)
    try:
        return replace_values(config, changes)
    except InputError as err:  # a value the config itself refuses (its __post_init__)
        raise InputError(f"{flag} {err}") from None


def _flag_dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_config_flags(parser: argparse.ArgumentParser, cls, flags: Mapping[str, str | tuple[str, Any]],
                     presets: Mapping[str, Any] | None = None) -> None:
    """Add `--set KEY=VALUE` and each shorthand FLAG -> KEY (or (KEY, argparse type)); their help is the field's,
    with each preset's value as the default, so none is written twice."""
    for flag, spec in flags.items():
        key, kind = spec if isinstance(spec, tuple) else (spec, None)
        entry = _lookup(cls, key, flag)
        hint, field = entry.hint, entry.field
        if presets:
            values = {name: _show(_value_at(config, key)) for name, config in presets.items()}
            default = "the preset's" + (f", {next(iter(values.values()))}" if len(set(values.values())) == 1 else
                                        ": " + ", ".join(f"{name} {value}" for name, value in values.items()))
        else:
            default = f"{_show(field.default)}" if field.default is not dataclasses.MISSING else "the preset's"
        metavar = None if kind else {int: "N", float: "X"}.get(hint)  # as genoscreen.cli.help names them
        parser.add_argument(flag, type=kind or _arg_type(hint), dest=_flag_dest(flag), metavar=metavar,
                            help=f"{field.metadata.get('help', '')} (= --set {key}=...; default: {default})".lstrip())
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field of the preset, e.g. --set train.epochs=3; repeatable; "
                             f"keys: {', '.join(config_keys(cls))}")


def config_from_args(config, args: argparse.Namespace, flags: Mapping[str, str | tuple[str, Any]]):
    """`config` with the shorthand flags given on the command line, then every --set (which wins) applied."""
    changes = {spec[0] if isinstance(spec, tuple) else spec: getattr(args, _flag_dest(flag))
               for flag, spec in flags.items()}
    return override(replace_values(config, changes), getattr(args, "set", None) or [])


def _value_at(config, key: str):
    for name in _lookup(type(config), key, key).path:
        config = getattr(config, name)
    return config


def _show(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _arg_type(hint):
    def convert(text: str):
        try:
            return parse_value(hint, text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None

    convert.__name__ = _describe(hint)
    return convert
