"""The one format in which values cross between the grader and the sandboxed runner.

Every value is plain JSON: numbers stay JSON numbers, arrays travel as ``.npy`` bytes
(read with ``allow_pickle=False``), and containers say what they were, so that what the
student's code returned is rebuilt with the same shape of types:

=================================  ==========================================
``None``, ``True``, ``1``, ``1.5``  themselves
``{"s": text}``                     a str
``{"a": npy, "scalar": 1}``         an ndarray (a numpy scalar with ``scalar``)
``{"l": [...]}`` / ``{"t": [...]}``  a list / a tuple
``{"nt": name, "t": [...]}``        a named tuple of nnlib, e.g. ``network.ForwardCache``
``{"dc": name, "d": {...}}``        a dataclass instance of nnlib (``activations.Activation``)
``{"dict": [[key, value], ...]}``   a dict with str keys
``{"f": name}``                     a function of nnlib, e.g. ``activations.sigmoid``
``{"ref": [path]}``                 the very object passed in as an argument (runner only)
``{"cb": index}``                   a callback the runner records calls of (grader only)
=================================  ==========================================

``decode`` trusts nothing: anything else, an array of objects, a subclass or a name
that nnlib does not define raises ``Garbled``. Both sides use this module; the runner
imports it inside the sandbox, where only numpy and the standard library exist.

An exception crosses as text only (``error_of``, ``read_error``): the names of its class
and of the classes it derives from, with their modules, and its message, all cut short
and made printable. The grader looks the names up among classes it imported itself; it
never imports, unpickles or evaluates a name the student's code gave.
"""

import base64
import dataclasses
import io
import sys

import numpy as np

from .inert import shown

MAX_DEPTH = 32
MAX_MESSAGE = 2000  # characters of an exception's message that cross
MAX_NAME = 200  # characters of a class's or a module's name
MAX_BASES = 32  # classes of an exception's method resolution order that cross


class Garbled(Exception):
    """What arrived is not a value of this format (a broken or forged message)."""


class Unencodable(TypeError):
    """A value that cannot be sent: not made of numbers, text and nnlib's own types."""


def _array(value):
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()


def encode(value, name_of=None, ref_of=None, callback_of=None, depth=0):
    """A value as JSON-ready data.

    Parameters
    ----------
    value : object
    name_of : callable, optional
        ``object -> str or None``: the nnlib name of a function or class (``"losses.mse"``),
        or None when it is not one of nnlib's.
    ref_of : callable, optional
        ``object -> list or None``: where an argument sits among the arguments of a call,
        for a returned value that is that very object.
    callback_of : callable, optional
        ``callable -> int``: the index under which a callable that is not nnlib's is sent,
        for the runner to record its calls. Without it such a callable is refused.
    depth : int
        For the recursion.

    Raises
    ------
    Unencodable
        For anything else (modules, generators, arbitrary objects), naming its type.
    """
    if depth > MAX_DEPTH:
        raise Unencodable("a value nested too deeply")
    if value is None or isinstance(value, (bool, int, float)) and not isinstance(
            value, np.generic):
        return value
    if isinstance(value, str):
        return {"s": str(value)}
    if ref_of is not None and isinstance(value, (list, dict, np.ndarray)):
        path = ref_of(value)
        if path is not None:
            return {"ref": path}
    if isinstance(value, (np.ndarray, np.generic)):
        if type(value) is not np.ndarray and not isinstance(value, np.generic):
            raise Unencodable(f"an array subclass {type(value).__module__}."
                              f"{type(value).__qualname__}")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.dtype.names:
            raise Unencodable(f"an array of dtype {array.dtype}")
        encoded = {"a": _array(array)}
        if isinstance(value, np.generic):
            encoded["scalar"] = 1
        return encoded

    def inner(item):
        return encode(item, name_of, ref_of, callback_of, depth + 1)

    if isinstance(value, tuple) and hasattr(value, "_fields"):
        name = name_of(type(value)) if name_of else None
        if name is None:
            raise Unencodable(f"a named tuple {type(value).__qualname__} that nnlib does not "
                              "define")
        return {"nt": name, "t": [inner(item) for item in value]}
    if isinstance(value, list):
        return {"l": [inner(item) for item in value]}
    if isinstance(value, tuple):
        return {"t": [inner(item) for item in value]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise Unencodable("a dict whose keys are not all str")
        return {"dict": [[str(key), inner(item)] for key, item in value.items()]}
    name = name_of(value) if name_of else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = name_of(type(value)) if name_of else None
        if name is not None:
            return {"dc": name, "d": {f.name: inner(getattr(value, f.name))
                                      for f in dataclasses.fields(value)}}
    elif name is not None:
        return {"f": name}
    elif callback_of is not None and callable(value) and not isinstance(value, type):
        return {"cb": int(callback_of(value))}
    raise Unencodable(f"a {type(value).__name__}")


def decode(value, resolve=None, ref=None, callback=None, depth=0):
    """The value ``encode`` made, checked at every step.

    Parameters
    ----------
    value : object
        Parsed JSON.
    resolve : callable, optional
        ``(kind, name) -> object`` for ``"f"``, ``"nt"`` and ``"dc"`` entries; it raises
        ``Garbled`` for a name it does not know. Without it such entries are refused.
    ref : callable, optional
        ``path -> object`` for ``"ref"`` entries; refused without it.
    callback : callable, optional
        ``index -> callable`` for ``"cb"`` entries; refused without it.

    Raises
    ------
    Garbled
        For anything that is not exactly of this format.
    """
    if depth > MAX_DEPTH:
        raise Garbled("nested too deeply")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if not isinstance(value, dict) or not value:
        raise Garbled(f"not a value of the format: a {type(value).__name__}")

    def inner(item):
        return decode(item, resolve, ref, callback, depth + 1)

    keys = set(value)
    if keys == {"s"} and isinstance(value["s"], str):
        return value["s"]
    if keys <= {"a", "scalar"} and "a" in keys and isinstance(value["a"], str):
        try:
            array = np.load(io.BytesIO(base64.b64decode(value["a"], validate=True)),
                            allow_pickle=False)
        except (ValueError, OSError, EOFError, TypeError) as error:
            raise Garbled(f"unreadable numbers ({error})") from None
        if type(array) is not np.ndarray or array.dtype.kind not in "biuf" or array.dtype.names:
            raise Garbled(f"an array of dtype {getattr(array, 'dtype', '?')}")
        if "scalar" in keys:
            if array.ndim != 0:
                raise Garbled("a scalar that is not 0-d")
            return array[()]
        return array
    if keys in ({"l"}, {"t"}) and isinstance(value.get("l", value.get("t")), list):
        items = [inner(item) for item in value.get("l", value.get("t"))]
        return items if "l" in keys else tuple(items)
    if keys == {"dict"} and isinstance(value["dict"], list):
        out = {}
        for pair in value["dict"]:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise Garbled("a dict entry that is not a [str, value] pair")
            out[pair[0]] = inner(pair[1])
        return out
    if resolve is not None and keys == {"f"} and isinstance(value["f"], str):
        return resolve("f", value["f"])
    if resolve is not None and keys == {"nt", "t"} and isinstance(value["nt"], str) \
            and isinstance(value["t"], list):
        kind = resolve("nt", value["nt"])
        try:
            return kind(*[inner(item) for item in value["t"]])
        except TypeError as error:
            raise Garbled(f"a {value['nt']} with the wrong fields ({error})") from None
    if resolve is not None and keys == {"dc", "d"} and isinstance(value["dc"], str) \
            and isinstance(value["d"], dict):
        kind = resolve("dc", value["dc"])
        try:
            return kind(**{str(k): inner(v) for k, v in value["d"].items()})
        except TypeError as error:
            raise Garbled(f"a {value['dc']} with the wrong fields ({error})") from None
    if ref is not None and keys == {"ref"} and isinstance(value["ref"], list):
        return ref(value["ref"])
    if callback is not None and keys == {"cb"} and isinstance(value["cb"], int):
        return callback(value["cb"])
    raise Garbled(f"not a value of the format (keys {sorted(keys)[:4]})")


def same(before, after):
    """Whether two decoded values are equal: same types, shapes, dtypes and numbers."""
    if isinstance(before, np.ndarray) or isinstance(after, np.ndarray):
        return (isinstance(before, np.ndarray) and isinstance(after, np.ndarray)
                and before.dtype == after.dtype and before.shape == after.shape
                and np.array_equal(before, after, equal_nan=before.dtype.kind == "f"))
    if isinstance(before, (list, tuple)):
        return (type(before) is type(after) and len(before) == len(after)
                and all(same(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(same(before[k], after[k]) for k in before))
    if isinstance(before, float) and isinstance(after, float) and before != before:
        return after != after  # nan
    return type(before) is type(after) and before == after


def refs(arguments):
    """Map ``id`` of every list, dict and array among ``arguments`` to its path in them."""
    found = {}

    def walk(value, path):
        if path and isinstance(value, (list, dict, np.ndarray)):
            found.setdefault(id(value), path)
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, [*path, index])
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, [*path, key])

    walk(arguments, [])
    return found


def follow(arguments, path):
    """The object at ``path`` (from ``refs``) among ``arguments``."""
    value = arguments
    for step in path:
        if isinstance(value, (list, tuple)) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        elif isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        else:
            raise Garbled(f"a reference to no argument ({path!r})")
    return value


def name_in(package, value):
    """``"module.name"`` when ``value`` is a top-level function or class of a module of the
    package ``package`` (e.g. ``"nnlib"``) that is loaded; else None."""
    module = getattr(value, "__module__", None) or ""
    name = getattr(value, "__qualname__", None)
    prefix = package + "."
    if not module.startswith(prefix) or not isinstance(name, str) or "." in name:
        return None
    loaded = sys.modules.get(module)
    if loaded is None or getattr(loaded, name, None) is not value:
        return None
    return f"{module[len(prefix):]}.{name}"


# ---------------------------------------------------------------- exceptions, as text


def error_of(error):
    """An exception as the runner's reply: its class's name and module, the classes it
    derives from and its message, as text.

    Returns
    -------
    dict
        ``{"ok": False, "type": name, "module": module, "bases": [[module, qualified
        name], ...], "message": text}``; ``bases`` is the class's method resolution order,
        itself first. Never raises: a name that is not a str, or a ``__str__`` that raises
        (even ``SystemExit``), gives a placeholder instead.
    """
    kind = type(error)
    bases = [[_name_of(base, "__module__"), _name_of(base, "__qualname__")]
             for base in _attempt(lambda: list(kind.__mro__[:MAX_BASES]), [])]
    message = _attempt(lambda: shown(str(error), MAX_MESSAGE, keep="\n\t"), "(a message that "
                       "could not be shown)")
    return {"ok": False, "type": _name_of(kind, "__name__"),
            "module": _name_of(kind, "__module__"), "bases": bases, "message": message}


def _name_of(kind, attribute):
    name = _attempt(lambda: getattr(kind, attribute), "")
    return _attempt(lambda: shown(name, MAX_NAME), "") if type(name) is str else ""


def _attempt(compute, fallback):
    try:
        return compute()
    except BaseException:  # whatever the student's code raises, the reply must still go
        return fallback


def read_error(reply):
    """What a reply of ``error_of`` says, from a runner that may have forged it: anything
    not of the format is dropped, the rest cut short and made printable.

    Returns
    -------
    (str, list of (str, str), str)
        The type's name, the ``(module, qualified name)`` of its class and bases (to be
        looked up, never imported) and the message.
    """
    name, bases, message = reply.get("type"), reply.get("bases"), reply.get("message")
    kept = [(pair[0], pair[1]) for pair in (bases[:MAX_BASES] if isinstance(bases, list) else [])
            if isinstance(pair, list) and len(pair) == 2
            and all(isinstance(part, str) and len(part) <= MAX_NAME for part in pair)]
    return (shown(name, MAX_NAME) if isinstance(name, str) and name else "?",
            kept, shown(message, MAX_MESSAGE, keep="\n\t") if isinstance(message, str) else "")
