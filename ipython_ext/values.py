"""Displays of fetched values: shape, dtype, min/max/mean, NaN and Inf counts, readably truncated values
and, for 2-D and image-like arrays, a small heatmap PNG made with NumPy and zlib alone."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ipython_ext.markup import Html, esc, fields, fmt_num, page, tag, truncate

MAX_LEAVES = 24
HEATMAP_MAX_SIDE = 256  # pixels of the PNG; larger arrays are strided down
HEATMAP_DISPLAY = 180  # pixels of the longer side on screen


class FetchedValue:
    """A value returned by `Session.run` (any nesting of lists, tuples, dicts) with a rich display.
    `.value` is the plain value; `names` mirrors its structure with the name of each fetched element."""

    def __init__(self, value, names=None) -> None:
        self.value = value
        self.names = names

    def leaves(self) -> list[tuple[str, object]]:
        """(label, value) per leaf; the label is the leaf's path in the structure and its fetch name."""
        return list(_leaves(self.value, "", self.names))

    def __repr__(self) -> str:
        return text(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": text(self), "text/html": html(self)}


def _child(names, key):
    try:
        return names[key]
    except (KeyError, IndexError, TypeError):
        return None


def _leaves(value, path: str, names):
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _leaves(v, f"{path}[{k!r}]", _child(names, k))
    elif isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]", _child(names, i))
    elif isinstance(value, tuple):  # a namedtuple
        for i, (field, v) in enumerate(zip(value._fields, value)):
            yield from _leaves(v, f"{path}.{field}", _child(names, i))
    else:
        yield " ".join(p for p in (path, names if isinstance(names, str) else "") if p), value


# -- statistics -------------------------------------------------------------------------------------------
def stats(arr: np.ndarray) -> list[tuple[str, str]]:
    """(name, value) pairs: min/max/mean over finite entries, NaN and Inf counts, as fits the dtype."""
    out: list[tuple[str, str]] = []
    if arr.size == 0:
        return out
    kind = arr.dtype.kind
    if kind == "b":
        out.append(("true", str(int(np.count_nonzero(arr)))))
    elif kind in "iu":
        out += [("min", str(arr.min())), ("max", str(arr.max())), ("mean", fmt_num(float(arr.mean())))]
    elif kind in "fc":
        mag = np.abs(arr) if kind == "c" else arr
        finite = mag[np.isfinite(mag)]
        prefix = "|x| " if kind == "c" else ""
        if finite.size:
            out += [(prefix + "min", fmt_num(float(finite.min()))), (prefix + "max", fmt_num(float(finite.max()))),
                    (prefix + "mean", fmt_num(float(finite.mean())))]
        out += [("NaN", str(int(np.count_nonzero(np.isnan(arr))))),
                ("Inf", str(int(np.count_nonzero(np.isinf(arr)))))]
    return out


ELEMENT_LIMIT = 80  # characters of one string element in value views


def _element_text(x) -> str:
    """One string element, cut before it is formatted (a 5 MB string costs what its first characters do)."""
    if isinstance(x, (bytes, np.bytes_)):
        return repr(bytes(x[:ELEMENT_LIMIT])) + ("…" if len(x) > ELEMENT_LIMIT else "")
    if isinstance(x, str):
        return repr(x[:ELEMENT_LIMIT]) + ("…" if len(x) > ELEMENT_LIMIT else "")
    return truncate(repr(x), ELEMENT_LIMIT)


def scalar_text(arr: np.ndarray) -> str:
    """A 0-d array's value as NumPy prints a scalar of its dtype: float32 and float16 with the digits their
    precision holds (`0.07587712`, not the float64 `0.0758771225810051`), strings cut."""
    if arr.dtype.kind in "SUO":
        return _element_text(arr.item())
    return str(arr[()])


def array_text(arr: np.ndarray, threshold: int = 120, edgeitems: int = 3, linewidth: int = 100) -> str:
    """The array as NumPy prints it, summarised past `threshold` elements (NumPy's own summarisation looks
    at the edge items only, so a huge array costs no more than a small one) and with long string elements
    cut."""
    if not arr.ndim:
        return scalar_text(arr)
    cut = {"numpystr": _element_text, "object": _element_text}
    with np.printoptions(threshold=threshold, edgeitems=edgeitems, linewidth=linewidth, precision=4,
                         suppress=True, formatter=cut if arr.dtype.kind in "SUO" else None):
        return np.array2string(arr, separator=", ")


def values_text(arr: np.ndarray) -> str:
    return array_text(arr)


def _as_array(v) -> np.ndarray | None:
    """Arrays, NumPy scalars and the Python scalars and bytes Session.run hands out, as arrays."""
    if isinstance(v, (np.ndarray, np.generic, bytes, str, bool, int, float, complex)):
        return np.asarray(v)
    return None


def dtype_name(arr: np.ndarray) -> str:
    """NumPy's dtype name, except that byte strings and object arrays (how string tensors come back)
    are called `string`, as the tensor's dtype is."""
    return "string" if arr.dtype.kind in "SUO" else arr.dtype.name


REPR_LIMIT = 2000


def leaf_repr(v) -> str:
    """repr of a value that is not an array (a SparseTensorValue, a handle...), with NumPy summarising the
    arrays it holds and the text cut at REPR_LIMIT."""
    with np.printoptions(threshold=120, edgeitems=3):
        return truncate(repr(v), REPR_LIMIT)


def _summary_line(label: str, v) -> str:
    arr = _as_array(v)
    if arr is not None:
        st = "  ".join(f"{k}={x}" for k, x in stats(arr))
        return f"{label or 'value'}: {dtype_name(arr)} {arr.shape}" + (f"  {st}" if st else "")
    if v is None:
        return f"{label or 'value'}: None (an operation ran; no value)"
    return f"{label or 'value'}: {type(v).__name__}"


def text(fv: FetchedValue) -> str:
    lines = []
    leaves = fv.leaves()
    for label, v in leaves[:MAX_LEAVES]:
        lines.append(_summary_line(label, v))
        arr = _as_array(v)
        if arr is not None:
            lines.append(values_text(arr))
        elif v is not None:
            lines.append(leaf_repr(v))
    hidden = len(leaves) - MAX_LEAVES
    if hidden > 0:
        lines.append(f"... and {hidden} more values")
    return "\n".join(lines)


# -- HTML -------------------------------------------------------------------------------------------------
def _leaf_html(label: str, v) -> Html:
    if v is None:
        note = tag("span", "ran (an operation has no value)", class_="tfx-dim")
        return Html(f"<div>{tag('b', label or 'value')} {note}</div>")
    arr = _as_array(v)
    if arr is None:
        return Html(f"<div>{tag('b', label or 'value')} {tag('span', type(v).__name__, class_='tfx-dim')}"
                    f"{tag('pre', leaf_repr(v), class_='tfx-values')}</div>")
    head = f"{dtype_name(arr)} {arr.shape}" if arr.ndim else dtype_name(arr)
    rows = [("shape / dtype", tag("code", head))] + [(k, tag("code", x)) for k, x in stats(arr)]
    picture = heatmap_html(arr)
    return Html(
        f"<div>{tag('b', label or 'value')}{fields(rows) if arr.ndim else ''}"
        f"{tag('pre', values_text(arr), class_='tfx-values')}{picture}</div>"
    )


def html(fv: FetchedValue) -> Html:
    leaves = fv.leaves()
    body = "".join(_leaf_html(label, v) for label, v in leaves[:MAX_LEAVES])
    if len(leaves) > MAX_LEAVES:
        body += tag("div", f"... and {len(leaves) - MAX_LEAVES} more values", class_="tfx-note")
    return page(Html(body), text(fv), kind="value")


# -- heatmaps ---------------------------------------------------------------------------------------------
# Viridis at five stops, interpolated linearly: perceptually ordered and legible on either theme. The colours
# of NaN and of the infinities are none of viridis's, so such cells stand out.
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)
SPECIAL_RGB = {"NaN": (255, 0, 255), "+Inf": (255, 32, 32), "-Inf": (0, 224, 255)}
LEGEND_WIDTH = 120  # pixels of the colour scale


def colormap(unit: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB through the stops above."""
    pos = np.clip(unit, 0.0, 1.0) * (len(_STOPS) - 1)
    lo = np.minimum(np.floor(pos).astype(int), len(_STOPS) - 2)
    frac = (pos - lo)[..., None]
    return np.round(_STOPS[lo] * (1 - frac) + _STOPS[lo + 1] * frac).astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of an (H, W, 3) uint8 array (filter 0 on every row)."""
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _steps(arr: np.ndarray) -> tuple[int, int]:
    return tuple(max(1, -(-d // HEATMAP_MAX_SIDE)) for d in arr.shape[:2])


def _stride_down(arr: np.ndarray) -> np.ndarray:
    sh, sw = _steps(arr)
    return arr[::sh, ::sw]


def _any_in_blocks(mask: np.ndarray, sh: int, sw: int) -> np.ndarray:
    """Per pixel of the strided-down picture, whether any cell of its block is set: a NaN among the cells
    a pixel stands for still shows."""
    if sh == 1 and sw == 1:
        return mask
    rows = np.logical_or.reduceat(mask, np.arange(0, mask.shape[0], sh), axis=0)
    return np.logical_or.reduceat(rows, np.arange(0, mask.shape[1], sw), axis=1)


@dataclass
class Heatmap:
    """The pixels of a heatmap and what its legend says: the finite range the colours span (None when
    nothing is finite) and the count of cells of each special value."""

    rgb: np.ndarray
    lo: float | None
    hi: float | None
    special: dict[str, int]


def heatmap(arr: np.ndarray) -> Heatmap | None:
    """A heatmap of a 2-D numeric array (or (H, W, 1)): viridis from the smallest to the largest finite
    value; NaN, +Inf and -Inf cells in colours of their own, kept visible when the array is strided down.
    None for anything else."""
    if arr.dtype.kind not in "biuf" or arr.ndim not in (2, 3) or min(arr.shape[:2]) < 2:
        return None
    if arr.ndim == 3:
        if arr.shape[2] != 1:
            return None
        arr = arr[:, :, 0]
    if arr.dtype.kind == "f":
        finite_all = np.isfinite(arr)
        masks = {"NaN": np.isnan(arr), "+Inf": np.isposinf(arr), "-Inf": np.isneginf(arr)}
        values = arr[finite_all]
    else:
        masks, values = {}, arr.ravel()
    lo, hi = (float(values.min()), float(values.max())) if values.size else (None, None)
    a = _stride_down(arr).astype(np.float64)
    if lo is None:
        rgb = colormap(np.full(a.shape, 0.5))
    else:
        unit = (np.where(np.isfinite(a), a, lo) - lo) / (hi - lo) if hi > lo else np.full(a.shape, 0.5)
        rgb = colormap(unit)
    special = {}
    for name in ("-Inf", "+Inf", "NaN"):  # NaN drawn last: it wins where a block holds several
        mask = masks.get(name)
        count = int(np.count_nonzero(mask)) if mask is not None else 0
        if count:
            special[name] = count
            rgb[_any_in_blocks(mask, *_steps(arr))] = SPECIAL_RGB[name]
    return Heatmap(rgb, lo, hi, {k: special[k] for k in SPECIAL_RGB if k in special})


def heatmap_rgb(arr: np.ndarray) -> np.ndarray | None:
    """RGB pixels for a 2-D numeric array (the heatmap above) or an image-like (H, W, 3|4) array (shown as
    colours); None for anything else."""
    if arr.dtype.kind in "biuf" and arr.ndim == 3 and arr.shape[2] in (3, 4) and min(arr.shape[:2]) >= 2:
        return _image_rgb(_stride_down(arr[:, :, :3]))
    hm = heatmap(arr)
    return None if hm is None else hm.rgb


def _image_rgb(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img)
    a = np.nan_to_num(img.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if a.min() >= 0 and a.max() <= 1:
        return np.round(a * 255).astype(np.uint8)
    lo, hi = a.min(), a.max()
    return np.round((a - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)


def _img(rgb: np.ndarray, width: int, height: int, alt: str, class_: str = "tfx-heatmap") -> str:
    data = base64.b64encode(png(rgb)).decode("ascii")
    return (f'<img class="{class_}" alt="{esc(alt)}" title="{esc(alt)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{data}">')


def _swatch(name: str, count: int) -> str:
    r, g, b = SPECIAL_RGB[name]
    box = Html(f'<span style="display:inline-block;width:10px;height:10px;margin:0 3px 0 8px;'
           f'vertical-align:middle;border:1px solid #888;background:rgb({r},{g},{b})"></span>')
    return box + tag("span", f"{name} ({count})")


def legend_text(hm: Heatmap) -> str:
    """The legend in words (the picture's alt text, and what the fallback reader gets)."""
    parts = [f"colour scale {fmt_num(hm.lo)} (purple) to {fmt_num(hm.hi)} (yellow)" if hm.lo is not None
             else "no finite values"]
    parts += [f"{name}: {count} cells" for name, count in hm.special.items()]
    return "heatmap, " + "; ".join(parts)


def legend_html(hm: Heatmap) -> Html:
    """A colour scale from the smallest to the largest finite value, then a swatch per special value the
    array holds, with its count."""
    scale = ""
    if hm.lo is not None:
        ramp = colormap(np.linspace(0.0, 1.0, LEGEND_WIDTH))[None, :, :]
        scale = (tag("code", fmt_num(hm.lo)) + Html(" " + _img(ramp, LEGEND_WIDTH, 10, "colour scale", "tfx-scale")
                                                     + " ") + tag("code", fmt_num(hm.hi)))
    swatches = "".join(_swatch(name, count) for name, count in hm.special.items())
    return Html(f'<div class="tfx-legend" style="font-size:11px;line-height:14px;margin:2px 0">{scale}{swatches}</div>')


def heatmap_html(arr: np.ndarray) -> Html:
    hm = heatmap(arr)
    rgb = hm.rgb if hm is not None else heatmap_rgb(arr)
    if rgb is None:
        return Html("")
    h, w = rgb.shape[:2]
    scale = HEATMAP_DISPLAY / max(h, w)
    width, height = max(1, round(w * scale)), max(1, round(h * scale))
    if hm is None:
        return Html(f"<div>{_img(rgb, width, height, 'image')}</div>")
    return Html(f"<div>{_img(rgb, width, height, legend_text(hm))}{legend_html(hm)}</div>")
