"""A workbook's meaning, part by part, as plain data that can be kept and compared.

``canonical(data)`` reads an ``.xlsx`` (a zip of XML parts) and returns one entry
per part, keyed by what the part is rather than where XlsxWriter happened to
put it (``sheet 'Notes'``, ``chart 1 on 'Trend'``, ``table 'Notes_table'``), so
a sheet added in the middle does not make every later sheet look changed:

- a worksheet: every cell (type, value or formula, and a style key), row
  heights, column widths, merged ranges, links, validations, conditional
  formats, print set-up, protection and anything else the sheet holds;
- the styles: what each style key means (font, size, bold, colour, fill,
  number format, alignment, wrap, border, locked), and the conditional formats;
- a drawing: where each chart or picture sits, its name and alt text;
- a chart: its kinds, series (name and cell ranges), title, axis titles,
  scales, number formats, colours and font sizes (cached values are left out:
  the cells they come from are in the sheet);
- a picture (or the theme): its size in pixels and a hash of its bytes;
- workbook, properties, tables, content types and relationships: their XML,
  with relationship ids replaced by the part they point to.

``compare(expected, actual)`` lists the differences readably, first ones first.
Numbers are compared to ten decimal places, so ``88.90000000000001`` is ``88.9``.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass, field

from defusedxml import ElementTree
from openpyxl.styles.numbers import BUILTIN_FORMATS

NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_ATTRS = {f"{{{NS_REL}}}{name}" for name in ("id", "embed", "link", "pict")}
# Chart parts repeat the values of the cells they plot; the cells are compared instead.
CHART_CACHES = {"strCache", "numCache", "multiLvlStrCache"}
MAX_DIFFERENCES = 12


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def number(text: str):
    """A stored number as a stable JSON number (integers stay integers)."""
    value = float(text)
    if value.is_integer() and abs(value) < 1e15:
        return int(value)
    return round(value, 10)


def cell_ref(col: int, row: int) -> str:
    """Zero-based column and row -> ``A1``."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def col_letters(index: int) -> str:
    """One-based column number -> letters."""
    return cell_ref(index - 1, 0)[:-1]


# ----------------------------------------------------------------------------------- styles


def colour(el) -> str | None:
    """A colour element as ``#RRGGBB``, ``theme N``, ``indexed N`` or ``auto``."""
    if el is None:
        return None
    a = el.attrib
    if "rgb" in a:
        rgb = a["rgb"]
        text = "#" + (rgb[2:] if len(rgb) == 8 else rgb)
    elif "theme" in a:
        text = f"theme {a['theme']}"
    elif "indexed" in a:
        text = f"indexed {a['indexed']}"
    elif a.get("auto") == "1":
        text = "auto"
    else:
        return None
    if "tint" in a:
        text += f" tint {number(a['tint'])}"
    return text


def child(el, name: str):
    if el is None:
        return None
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def font_summary(el) -> str:
    if el is None:
        return ""
    bits = []
    name = child(el, "name") if child(el, "name") is not None else child(el, "rFont")
    if name is not None:
        bits.append(name.get("val"))
    size = child(el, "sz")
    if size is not None:
        bits.append(f"{number(size.get('val'))}pt")
    for flag, word in (("b", "bold"), ("i", "italic"), ("strike", "strike")):
        c = child(el, flag)
        if c is not None and c.get("val", "1") not in ("0", "false"):
            bits.append(word)
    u = child(el, "u")
    if u is not None:
        bits.append(
            "underline" + ("" if u.get("val", "single") == "single" else f" {u.get('val')}")
        )
    va = child(el, "vertAlign")
    if va is not None:
        bits.append(va.get("val"))
    c = colour(child(el, "color"))
    if c:
        bits.append(c)
    return " ".join(bits)


def fill_summary(el, dxf: bool = False) -> str:
    if el is None:
        return ""
    pattern = child(el, "patternFill")
    if pattern is not None:
        kind = pattern.get("patternType", "solid" if dxf else "none")
        if kind == "none":
            return ""
        fg = colour(child(pattern, "fgColor"))
        bg = colour(child(pattern, "bgColor"))
        if kind == "solid":
            return f"fill {(bg if dxf else fg) or fg or bg}"
        return f"fill {kind} {fg} on {bg}"
    gradient = child(el, "gradientFill")
    if gradient is not None:
        stops = [colour(child(s, "color")) for s in gradient]
        return "fill gradient " + " ".join(str(s) for s in stops)
    return ""


def border_summary(el) -> str:
    if el is None:
        return ""
    sides = {}
    for side in ("left", "right", "top", "bottom", "diagonal"):
        s = child(el, side)
        if s is not None and s.get("style"):
            sides[side] = f"{s.get('style')} {colour(child(s, 'color')) or ''}".strip()
    if not sides:
        return ""
    values = set(sides.values())
    if len(values) == 1 and set(sides) == {"left", "right", "top", "bottom"}:
        return f"border {values.pop()}"
    return "border " + ", ".join(f"{k} {v}" for k, v in sides.items())


def alignment_summary(el) -> list[str]:
    if el is None:
        return []
    a = el.attrib
    bits = []
    if a.get("horizontal"):
        bits.append(f"h {a['horizontal']}")
    if a.get("vertical"):
        bits.append(f"v {a['vertical']}")
    if a.get("wrapText") in ("1", "true"):
        bits.append("wrap")
    if a.get("shrinkToFit") in ("1", "true"):
        bits.append("shrink")
    if a.get("indent") not in (None, "0"):
        bits.append(f"indent {a['indent']}")
    if a.get("textRotation") not in (None, "0"):
        bits.append(f"rotate {a['textRotation']}")
    return bits


@dataclass
class Styles:
    """What each cell format of a workbook means, as a short readable line."""

    numfmts: dict[int, str] = field(default_factory=dict)
    xfs: list[str] = field(default_factory=list)
    dxfs: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    normal: str = ""
    used: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, xml: bytes | None) -> Styles:
        styles = cls()
        if xml is None:
            return styles
        root = ElementTree.fromstring(xml)
        groups = {local(el.tag): el for el in root}
        for nf in groups.get("numFmts", []):
            styles.numfmts[int(nf.get("numFmtId"))] = nf.get("formatCode")
        fonts = [font_summary(f) for f in groups.get("fonts", [])]
        fills = [fill_summary(f) for f in groups.get("fills", [])]
        borders = [border_summary(b) for b in groups.get("borders", [])]
        styles.normal = fonts[0] if fonts else ""
        for name in ("fonts", "fills", "borders", "cellXfs", "cellStyleXfs", "dxfs", "numFmts"):
            styles.counts[name] = len(list(groups.get(name, [])))
        for xf in groups.get("cellXfs", []):
            bits = [fonts[int(xf.get("fontId", 0))]]
            bits.append(fills[int(xf.get("fillId", 0))])
            fmt = int(xf.get("numFmtId", 0))
            if fmt:
                bits.append(f"format {styles.format_code(fmt)}")
            bits += alignment_summary(child(xf, "alignment"))
            bits.append(borders[int(xf.get("borderId", 0))])
            prot = child(xf, "protection")
            if prot is not None:
                if prot.get("locked") in ("0", "false"):
                    bits.append("unlocked")
                if prot.get("hidden") in ("1", "true"):
                    bits.append("formula hidden")
            styles.xfs.append(" | ".join(b for b in bits if b))
        for dxf in groups.get("dxfs", []):
            bits = [font_summary(child(dxf, "font")), fill_summary(child(dxf, "fill"), dxf=True)]
            nf = child(dxf, "numFmt")
            if nf is not None:
                bits.append(f"format {nf.get('formatCode')}")
            bits.append(border_summary(child(dxf, "border")))
            styles.dxfs.append(" | ".join(b for b in bits if b))
        return styles

    def format_code(self, fmt: int) -> str:
        return self.numfmts.get(fmt) or BUILTIN_FORMATS.get(fmt) or f"builtin {fmt}"

    def key(self, index: str | None) -> str | None:
        """The short key of a cell format (None for the default one), noted as used."""
        i = int(index or 0)
        if i == 0 or i >= len(self.xfs):
            return None if i == 0 else f"missing {i}"
        summary = self.xfs[i]
        key = hashlib.sha1(summary.encode()).hexdigest()[:8]
        self.used[key] = summary
        return key

    def dxf(self, index: str) -> str:
        i = int(index)
        return self.dxfs[i] if i < len(self.dxfs) else f"missing dxf {i}"


# ------------------------------------------------------------------------------ generic XML


class Reader:
    """One workbook: its parts, relationships and the name each part is known by."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = self.zip.namelist()
        self.rels: dict[str, dict[str, tuple[str, str, str]]] = {}
        self.keys: dict[str, str] = {}
        self.strings: list = []
        self.styles = Styles.parse(self.read("xl/styles.xml"))
        self._name_parts()

    def read(self, name: str) -> bytes | None:
        return self.zip.read(name) if name in self.names else None

    def xml(self, name: str):
        data = self.read(name)
        return None if data is None else ElementTree.fromstring(data)

    def relations(self, part: str) -> dict[str, tuple[str, str, str]]:
        """``rId -> (type, target part or URL, mode)`` for ``part``."""
        if part not in self.rels:
            folder, base = posixpath.split(part)
            root = self.xml(posixpath.join(folder, "_rels", base + ".rels"))
            found = {}
            for rel in root if root is not None else []:
                target, mode = rel.get("Target"), rel.get("TargetMode", "Internal")
                if mode != "External":
                    if target.startswith("/"):
                        target = target[1:]
                    else:
                        target = posixpath.normpath(posixpath.join(folder, target))
                found[rel.get("Id")] = (rel.get("Type").rsplit("/", 1)[-1], target, mode)
            self.rels[part] = found
        return self.rels[part]

    def _name(self, part: str, key: str) -> None:
        if part not in self.keys and key not in self.keys.values():
            self.keys[part] = key

    def _name_parts(self) -> None:
        book = self.xml("xl/workbook.xml")
        rels = self.relations("xl/workbook.xml")
        sheets = [] if book is None else [el for el in book.iter() if local(el.tag) == "sheet"]
        for sheet in sheets:
            rid = next((v for k, v in sheet.attrib.items() if k in REL_ATTRS), None)
            if rid not in rels:
                continue
            part, name = rels[rid][1], sheet.get("name")
            self._name(part, f"sheet '{name}'")
            charts = images = 0
            for kind, target, mode in self.relations(part).values():
                if mode == "External":
                    continue
                if kind == "table":
                    table = self.xml(target)
                    label = table.get("displayName") if table is not None else target
                    self._name(target, f"table '{label}'")
                elif kind == "drawing":
                    self._name(target, f"drawing on '{name}'")
                    for rid2 in self._drawing_order(target):
                        kind2, target2, mode2 = self.relations(target).get(rid2, ("", "", ""))
                        if mode2 == "External" or not target2:
                            continue
                        if kind2 == "chart" and target2 not in self.keys:
                            charts += 1
                            self._name(target2, f"chart {charts} on '{name}'")
                        elif kind2 == "image" and target2 not in self.keys:
                            images += 1
                            self._name(target2, f"image {images} on '{name}'")
                elif kind == "comments":
                    self._name(target, f"comments on '{name}'")
                elif kind == "vmlDrawing":
                    self._name(target, f"vml drawing on '{name}'")
        for name in self.names:
            if name.endswith(".rels"):
                folder, base = posixpath.split(name)
                owner = posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])
                self._name(name, f"relationships of {self.key(owner) if owner else 'the package'}")
            else:
                self._name(name, name)

    def _drawing_order(self, part: str) -> list[str]:
        root = self.xml(part)
        if root is None:
            return []
        return [v for el in root.iter() for k, v in el.attrib.items() if k in REL_ATTRS]

    def key(self, part: str) -> str:
        return self.keys.get(part, part)

    def target(self, part: str, rid: str) -> str:
        _kind, target, mode = self.relations(part).get(rid, ("?", f"missing {rid}", "Internal"))
        return target if mode == "External" else self.key(target)


def canon(el, reader: Reader, part: str, hooks: dict | None = None):
    """An XML element as plain data: attributes and children by name, ``val``-only leaves folded.

    Relationship ids become the name of the part they point to, ``dxfId`` the
    conditional format it means; ``hooks`` handle named children themselves
    (returning ``None`` leaves the child out).
    """
    hooks = hooks or {}
    attrs = {}
    for k, v in el.attrib.items():
        if k in REL_ATTRS:
            attrs[local(k)] = reader.target(part, v)
        elif k == "dxfId":
            attrs["dxf"] = reader.styles.dxf(v)
        else:
            attrs[local(k)] = v
    kids = list(el)
    text = (el.text or "").strip()
    if not kids and not text:
        if not attrs:
            return True
        if list(attrs) == ["val"]:
            return attrs["val"]
    if not kids and not attrs:
        return text
    out: dict = dict(attrs)
    if text:
        out["text"] = text
    for kid in kids:
        name = local(kid.tag)
        value = hooks[name](kid) if name in hooks else canon(kid, reader, part, hooks)
        if value is None:
            continue
        if name in out:
            if not isinstance(out[name], list) or name not in out.get("__lists__", ()):
                out[name] = [out[name]]
                out.setdefault("__lists__", []).append(name)
            out[name].append(value)
        else:
            out[name] = value
    out.pop("__lists__", None)
    return out


# ------------------------------------------------------------------------------- worksheets


def shared_strings(reader: Reader) -> list:
    root = reader.xml("xl/sharedStrings.xml")
    strings = []
    for si in root if root is not None else []:
        strings.append(rich_text(si))
    return strings


def rich_text(si):
    """A string item: plain text, or ``{"text", "runs"}`` when parts of it are formatted."""
    runs = [r for r in si if local(r.tag) == "r"]
    if not runs:
        t = child(si, "t")
        return "" if t is None else (t.text or "")
    parts = []
    for r in runs:
        t = child(r, "t")
        parts.append([t.text or "" if t is not None else "", font_summary(child(r, "rPr"))])
    return {"text": "".join(p[0] for p in parts), "runs": parts}


def cell_entry(c, reader: Reader) -> dict:
    kind = c.get("t", "n")
    entry: dict = {}
    f, v, inline = child(c, "f"), child(c, "v"), child(c, "is")
    value = v.text if v is not None else None
    if f is not None:
        entry["t"] = "formula"
        entry["f"] = f.text or ""
        extra = {k: a for k, a in f.attrib.items() if k not in ("ca",)}
        if extra:
            entry["f_attrs"] = extra
        if value is not None:
            entry["cached"] = number(value) if kind == "n" else value
    elif kind == "s":
        text = reader.strings[int(value)] if value is not None else None
        entry["t"] = "rich" if isinstance(text, dict) else "s"
        entry["v"] = text
    elif kind == "inlineStr":
        entry["t"] = "s"
        entry["v"] = rich_text(inline) if inline is not None else ""
    elif value is None:
        entry["t"] = "blank"
    elif kind == "n":
        entry["t"] = "n"
        entry["v"] = number(value)
    elif kind == "b":
        entry["t"] = "b"
        entry["v"] = value == "1"
    else:  # e, str, d
        entry["t"] = kind
        entry["v"] = value
    style = reader.styles.key(c.get("s"))
    if style:
        entry["st"] = style
    return entry


def worksheet(reader: Reader, part: str) -> dict:
    root = reader.xml(part)
    out: dict = {"part": part}
    cells: dict = {}
    rows: dict = {}
    for el in root:
        name = local(el.tag)
        if name == "sheetData":
            for row in el:
                attrs = {
                    k: (number(v) if k == "ht" else v)
                    for k, v in row.attrib.items()
                    if k not in ("r", "spans", "x14ac:dyDescent") and not k.startswith("{")
                }
                if "s" in attrs:
                    attrs["style"] = reader.styles.key(attrs.pop("s"))
                if attrs:
                    rows[row.get("r")] = attrs
                for c in row:
                    cells[c.get("r")] = cell_entry(c, reader)
        elif name == "cols":
            widths = {}
            for col in el:
                lo, hi = int(col.get("min")), int(col.get("max"))
                span = col_letters(lo) if lo == hi else f"{col_letters(lo)}:{col_letters(hi)}"
                entry = {"width": round(float(col.get("width", 0)), 2)}
                for k in ("hidden", "outlineLevel", "collapsed", "bestFit"):
                    if col.get(k) not in (None, "0"):
                        entry[k] = col.get(k)
                if col.get("style") not in (None, "0"):
                    entry["style"] = reader.styles.key(col.get("style"))
                widths[span] = entry
            out["columns"] = widths
        elif name == "mergeCells":
            out["merged"] = sorted((m.get("ref") for m in el), key=_ref_order)
        elif name == "dimension":
            continue  # follows from the cells
        elif name == "hyperlinks":
            links = {}
            for link in el:
                entry = canon(link, reader, part)
                entry.pop("ref", None)
                links[link.get("ref")] = entry
            out["links"] = links
        elif name == "sheetProtection":
            entry = canon(el, reader, part)
            if isinstance(entry, dict):
                for secret in ("password", "hashValue", "saltValue"):
                    if secret in entry:
                        entry[secret] = "<set>"
            out[name] = entry
        else:
            value = canon(el, reader, part)
            if name in out:
                out[name] = out[name] if isinstance(out[name], list) else [out[name]]
                out[name].append(value)
            else:
                out[name] = value
    out["rows"] = rows
    out["cells"] = cells
    return out


def _ref_order(ref: str):
    m = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(m.group(2)), len(m.group(1)), m.group(1)) if m else (0, 0, ref)


# ----------------------------------------------------------------------- drawings and charts


def anchor_point(el) -> str:
    vals = {local(c.tag): int(c.text or 0) for c in el}
    ref = cell_ref(vals.get("col", 0), vals.get("row", 0))
    off = (vals.get("colOff", 0), vals.get("rowOff", 0))
    return ref if off == (0, 0) else f"{ref} +{off[0]},{off[1]} EMU"


def drawing(reader: Reader, part: str) -> dict:
    hooks = {"from": anchor_point, "to": anchor_point}
    return {"part": part, **canon(reader.xml(part), reader, part, hooks)}


def text_of(el) -> str:
    return "".join(t.text or "" for t in el.iter() if local(t.tag) == "t")


def text_props(el) -> dict | str:
    """Font size (points), bold, typeface and rotation of a run or text body."""
    out = {}
    for e in el.iter():
        name = local(e.tag)
        if name == "bodyPr" and e.get("rot"):
            out["rotation"] = number(e.get("rot")) / 60000
        if name in ("defRPr", "rPr") and "size" not in out:
            if e.get("sz"):
                out["size"] = number(e.get("sz")) / 100
            if e.get("b") is not None:
                out["bold"] = e.get("b") == "1"
        if name == "latin" and "font" not in out:
            out["font"] = e.get("typeface")
        if name == "solidFill" and "colour" not in out:
            for c in e:
                out["colour"] = c.get("val")
    return out


def shape_props(el) -> dict:
    """Fill and line colours of a shape, as ``{"fill": ..., "line": ...}``."""
    out = {}
    for c in el:
        name = local(c.tag)
        if name == "solidFill":
            out["fill"] = " ".join(x.get("val", local(x.tag)) for x in c)
        elif name == "noFill":
            out["fill"] = "none"
        elif name == "ln":
            line = shape_props(c)
            out["line"] = line.get("fill", "default")
            if c.get("w"):
                out["line width"] = number(c.get("w")) / 12700
            dash = child(c, "prstDash")
            if dash is not None:
                out["dash"] = dash.get("val")
        elif name == "pattFill":
            out["fill"] = f"pattern {c.get('prst')}"
    return out


def chart(reader: Reader, part: str) -> dict:
    def title(el):
        tx = child(el, "tx")
        rich = child(tx, "rich") if tx is not None else None
        entry: dict = {}
        if rich is not None:
            entry["text"] = text_of(rich)
            entry.update(text_props(rich))
        elif tx is not None:
            entry["text"] = canon(tx, reader, part, hooks)
        overlay = child(el, "overlay")
        if overlay is not None:
            entry["overlay"] = overlay.get("val")
        txpr = child(el, "txPr")
        if txpr is not None:
            entry.update(text_props(txpr))
        return entry

    def ref(el):
        f = child(el, "f")
        return f.text if f is not None else canon(el, reader, part, hooks)

    hooks = {
        "title": title,
        "rich": lambda el: {"text": text_of(el), **text_props(el)},
        "txPr": text_props,
        "spPr": shape_props,
        "strRef": ref,
        "numRef": ref,
        "multiLvlStrRef": ref,
        "layout": lambda el: canon(el, reader, part) if len(el) else None,
        "extLst": lambda el: None,
        **{name: (lambda el: None) for name in CHART_CACHES},
    }
    return {"part": part, **canon(reader.xml(part), reader, part, hooks)}


def digest(reader: Reader, part: str) -> dict:
    """A picture or other binary part: its size, a hash of its bytes and, for a PNG, its pixels."""
    data = reader.read(part)
    entry = {"part": part, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()[:16]}
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        entry["pixels"] = f"{width} x {height}"
    return entry


# ------------------------------------------------------------------------------ other parts


def workbook(reader: Reader, part: str) -> dict:
    """Sheets in order (with any that are hidden), defined names by name and sheet, the rest."""
    root = reader.xml(part)
    sheets: list[str] = []

    def sheet_list(el):
        for sheet in el:
            state = sheet.get("state", "visible")
            sheets.append(sheet.get("name"))
            yield sheet.get("name") + ("" if state == "visible" else f" ({state})")

    def defined_names(el):
        names = {}
        for dn in el:
            local_id = dn.get("localSheetId")
            key = dn.get("name")
            if local_id is not None:
                key += f" of '{sheets[int(local_id)]}'" if int(local_id) < len(sheets) else local_id
            extra = {k: v for k, v in dn.attrib.items() if k not in ("name", "localSheetId")}
            names[key] = {"refers to": dn.text, **extra} if extra else dn.text
        return dict(sorted(names.items()))

    def protection(el):
        entry = canon(el, reader, part)
        if isinstance(entry, dict):
            for k in list(entry):
                if "password" in k.lower() or k.endswith(("HashValue", "SaltValue")):
                    entry[k] = "<set>"
        return entry

    hooks = {
        "sheets": lambda el: list(sheet_list(el)),
        "definedNames": defined_names,
        "workbookProtection": protection,
    }
    return {"part": part, **canon(root, reader, part, hooks)}


def content_types(reader: Reader, part: str) -> dict:
    root = reader.xml(part)
    defaults, overrides = {}, {}
    for el in root:
        if local(el.tag) == "Default":
            defaults[el.get("Extension")] = el.get("ContentType")
        else:
            overrides[reader.key(el.get("PartName").lstrip("/"))] = el.get("ContentType")
    return {
        "defaults": dict(sorted(defaults.items())),
        "overrides": dict(sorted(overrides.items())),
    }


def relationships(reader: Reader, part: str) -> list[str]:
    folder, base = posixpath.split(part)
    owner = posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])
    found = reader.relations(owner)
    return sorted(
        f"{kind} -> {target if mode == 'External' else reader.key(target)}"
        + (" (external)" if mode == "External" else "")
        for kind, target, mode in found.values()
    )


def canonical(data: bytes) -> dict:
    """Every part of an ``.xlsx`` by name, in a form that only changes when its meaning does."""
    reader = Reader(data)
    reader.strings = shared_strings(reader)
    parts: dict = {}
    for name in reader.names:
        key = reader.key(name)
        kind = key.split(" ", 1)[0]
        if name.endswith(".rels"):
            parts[key] = relationships(reader, name)
        elif name == "[Content_Types].xml":
            parts[key] = content_types(reader, name)
        elif kind == "sheet":
            parts[key] = worksheet(reader, name)
        elif kind == "drawing":
            parts[key] = drawing(reader, name)
        elif kind == "chart":
            parts[key] = chart(reader, name)
        elif kind == "image" or name.startswith(("xl/media/", "xl/theme/")):
            parts[key] = digest(reader, name)
        elif name == "xl/workbook.xml":
            parts[key] = workbook(reader, name)
        elif name == "xl/sharedStrings.xml":
            parts[key] = {"strings": len(reader.strings)}
        elif name == "xl/styles.xml":
            continue  # written last, once every cell has said which styles it uses
        elif name.endswith((".xml", ".vml")):
            parts[key] = canon(reader.xml(name), reader, name)
        else:
            parts[key] = digest(reader, name)
    if "xl/styles.xml" in reader.names:
        styles = reader.styles
        parts["xl/styles.xml"] = {
            "normal font": styles.normal,
            "counts": styles.counts,
            "cell styles used": dict(sorted(styles.used.items())),
            "conditional formats": styles.dxfs,
        }
    parts["parts in order"] = [reader.key(n) for n in reader.names]
    return dict(sorted(parts.items()))


# ------------------------------------------------------------------------- writing, reading


def dumps(value, indent: int = 0) -> str:
    """JSON with one line per cell, row, style or other small object, so files diff well."""
    pad = " " * indent
    if isinstance(value, dict) and value and not _flat(value):
        items = [
            f"{pad} {json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 1).lstrip()}"
            for k, v in value.items()
        ]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and not _flat(value):
        items = [dumps(v, indent + 1) for v in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(value, ensure_ascii=False)


def _flat(value) -> bool:
    """One line: a small dict of scalars (or short lists of them), or a short list of scalars."""
    if isinstance(value, dict):
        short = len(value) <= 4 or len(json.dumps(value, ensure_ascii=False)) <= 100
        return short and all(
            not isinstance(v, dict) and not (isinstance(v, list) and not _flat(v))
            for v in value.values()
        )
    scalars = all(not isinstance(v, (dict, list)) for v in value)
    return scalars and len(json.dumps(value, ensure_ascii=False)) <= 100


# ------------------------------------------------------------------------------- comparing


def compare(expected: dict, actual: dict, limit: int = MAX_DIFFERENCES) -> list[str]:
    """Readable differences between two canonical forms (at most ``limit``, then a count).

    The same change in many cells, rows or columns of a sheet is told once,
    with the cells it applies to.
    """
    found: list[tuple[str, list[str], str]] = []
    styles = (
        expected.get("xl/styles.xml", {}).get("cell styles used", {}),
        actual.get("xl/styles.xml", {}).get("cell styles used", {}),
    )
    order = {k: i for i, k in enumerate(actual.get("parts in order", []))}
    order.update({k: len(order) + i for i, k in enumerate(expected.get("parts in order", []))})

    def part_order(key: str):
        first = ("xl/workbook.xml", "docProps/")
        rank = next((i for i, p in enumerate(first) if key.startswith(p)), len(first))
        return (rank, order.get(key, len(order)), key)

    for key in sorted(set(expected) | set(actual), key=part_order):
        if key == "parts in order":
            continue
        if key not in actual:
            found.append((_label(key, expected), [], ": part missing"))
        elif key not in expected:
            found.append((_label(key, actual), [], ": new part, not in the snapshot"))
        else:
            _walk(expected[key], actual[key], [], _label(key, actual), styles, found)
    if not found and expected.get("parts in order") != actual.get("parts in order"):
        found.append(
            (
                "parts in order",
                [],
                f": expected {expected.get('parts in order')}, got {actual.get('parts in order')}",
            )
        )
    lines = _grouped(found)
    if len(lines) > limit:
        return lines[:limit] + [f"... and {len(lines) - limit} more differences"]
    return lines


GROUPED = ("cells", "rows", "columns", "links")


def _grouped(found: list[tuple[str, list[str], str]]) -> list[str]:
    groups: dict[tuple, list[str]] = {}
    for label, path, text in found:
        if len(path) >= 2 and path[0] in GROUPED:
            key = (label, path[0], tuple(path[2:]), text)
            groups.setdefault(key, []).append(path[1])
        else:
            groups[(label, None, tuple(path), text)] = []
    lines = []
    for (label, kind, rest, text), refs in groups.items():
        if kind is None:
            where = " > ".join(rest)
        else:
            shown = ", ".join(refs[:8]) + (", ..." if len(refs) > 8 else "")
            count = f" ({len(refs)} {kind})" if len(refs) > 1 else ""
            where = " > ".join([f"{kind} {shown}{count}", *rest])
        lines.append(f"{label}{': ' + where if where else ''}{text}")
    return lines


def _label(key: str, parts: dict) -> str:
    entry = parts.get(key)
    path = entry.get("part") if isinstance(entry, dict) else None
    return f"{key} ({path})" if path and path != key else key


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def _walk(exp, act, path: list, label: str, styles, found: list) -> None:
    if isinstance(exp, dict) and isinstance(act, dict):
        for k in list(exp) + [k for k in act if k not in exp]:
            if k == "part":
                continue
            if k not in act:
                found.append((label, [*path, str(k)], f": missing (expected {_show(exp[k])})"))
            elif k not in exp:
                found.append((label, [*path, str(k)], f": not expected (got {_show(act[k])})"))
            elif k == "st" and exp[k] != act[k]:
                before, after = styles[0].get(exp[k], exp[k]), styles[1].get(act[k], act[k])
                found.append((label, [*path, "style"], f": expected [{before}], got [{after}]"))
            else:
                _walk(exp[k], act[k], [*path, str(k)], label, styles, found)
        return
    if isinstance(exp, list) and isinstance(act, list):
        if len(exp) == len(act):
            for i, (e, a) in enumerate(zip(exp, act)):
                _walk(e, a, [*path, f"[{i}]"], label, styles, found)
            return
        # Items added or taken out: say which, rather than every item after them.
        keys = [[json.dumps(x, sort_keys=True) for x in side] for side in (exp, act)]
        matcher = difflib.SequenceMatcher(a=keys[0], b=keys[1], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            if op == "replace" and i2 - i1 == j2 - j1:
                for k in range(i2 - i1):
                    _walk(exp[i1 + k], act[j1 + k], [*path, f"[{j1 + k}]"], label, styles, found)
                continue
            for k in range(i1, i2):
                found.append((label, [*path, f"[{k}]"], f": taken out (expected {_show(exp[k])})"))
            for k in range(j1, j2):
                found.append((label, [*path, f"[{k}]"], f": added (got {_show(act[k])})"))
        return
    if exp != act:
        found.append((label, path, f": expected {_show(exp)}, got {_show(act)}"))
