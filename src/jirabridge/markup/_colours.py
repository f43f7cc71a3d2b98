"""Colour tables and colour normalisation used by the wiki markup <-> ADF converter.

``CSS_NAMED_COLOURS`` is the CSS Color Module Level 4 list of named colours (a public standard).
"""

from __future__ import annotations

import re

__all__ = [
    "CSS_NAMED_COLOURS",
    "PANEL_TYPE_HEX",
    "PANEL_TYPE_RGB",
    "normalize_hex_colour",
    "panel_type_for",
]

CSS_NAMED_COLOURS: dict[str, str] = {
    "aliceblue": "#f0f8ff",
    "antiquewhite": "#faebd7",
    "aqua": "#00ffff",
    "aquamarine": "#7fffd4",
    "azure": "#f0ffff",
    "beige": "#f5f5dc",
    "bisque": "#ffe4c4",
    "black": "#000000",
    "blanchedalmond": "#ffebcd",
    "blue": "#0000ff",
    "blueviolet": "#8a2be2",
    "brown": "#a52a2a",
    "burlywood": "#deb887",
    "cadetblue": "#5f9ea0",
    "chartreuse": "#7fff00",
    "chocolate": "#d2691e",
    "coral": "#ff7f50",
    "cornflowerblue": "#6495ed",
    "cornsilk": "#fff8dc",
    "crimson": "#dc143c",
    "cyan": "#00ffff",
    "darkblue": "#00008b",
    "darkcyan": "#008b8b",
    "darkgoldenrod": "#b8860b",
    "darkgray": "#a9a9a9",
    "darkgreen": "#006400",
    "darkgrey": "#a9a9a9",
    "darkkhaki": "#bdb76b",
    "darkmagenta": "#8b008b",
    "darkolivegreen": "#556b2f",
    "darkorange": "#ff8c00",
    "darkorchid": "#9932cc",
    "darkred": "#8b0000",
    "darksalmon": "#e9967a",
    "darkseagreen": "#8fbc8f",
    "darkslateblue": "#483d8b",
    "darkslategray": "#2f4f4f",
    "darkslategrey": "#2f4f4f",
    "darkturquoise": "#00ced1",
    "darkviolet": "#9400d3",
    "deeppink": "#ff1493",
    "deepskyblue": "#00bfff",
    "dimgray": "#696969",
    "dimgrey": "#696969",
    "dodgerblue": "#1e90ff",
    "firebrick": "#b22222",
    "floralwhite": "#fffaf0",
    "forestgreen": "#228b22",
    "fuchsia": "#ff00ff",
    "gainsboro": "#dcdcdc",
    "ghostwhite": "#f8f8ff",
    "gold": "#ffd700",
    "goldenrod": "#daa520",
    "gray": "#808080",
    "green": "#008000",
    "greenyellow": "#adff2f",
    "grey": "#808080",
    "honeydew": "#f0fff0",
    "hotpink": "#ff69b4",
    "indianred": "#cd5c5c",
    "indigo": "#4b0082",
    "ivory": "#fffff0",
    "khaki": "#f0e68c",
    "lavender": "#e6e6fa",
    "lavenderblush": "#fff0f5",
    "lawngreen": "#7cfc00",
    "lemonchiffon": "#fffacd",
    "lightblue": "#add8e6",
    "lightcoral": "#f08080",
    "lightcyan": "#e0ffff",
    "lightgoldenrodyellow": "#fafad2",
    "lightgray": "#d3d3d3",
    "lightgreen": "#90ee90",
    "lightgrey": "#d3d3d3",
    "lightpink": "#ffb6c1",
    "lightsalmon": "#ffa07a",
    "lightseagreen": "#20b2aa",
    "lightskyblue": "#87cefa",
    "lightslategray": "#778899",
    "lightslategrey": "#778899",
    "lightsteelblue": "#b0c4de",
    "lightyellow": "#ffffe0",
    "lime": "#00ff00",
    "limegreen": "#32cd32",
    "linen": "#faf0e6",
    "magenta": "#ff00ff",
    "maroon": "#800000",
    "mediumaquamarine": "#66cdaa",
    "mediumblue": "#0000cd",
    "mediumorchid": "#ba55d3",
    "mediumpurple": "#9370db",
    "mediumseagreen": "#3cb371",
    "mediumslateblue": "#7b68ee",
    "mediumspringgreen": "#00fa9a",
    "mediumturquoise": "#48d1cc",
    "mediumvioletred": "#c71585",
    "midnightblue": "#191970",
    "mintcream": "#f5fffa",
    "mistyrose": "#ffe4e1",
    "moccasin": "#ffe4b5",
    "navajowhite": "#ffdead",
    "navy": "#000080",
    "oldlace": "#fdf5e6",
    "olive": "#808000",
    "olivedrab": "#6b8e23",
    "orange": "#ffa500",
    "orangered": "#ff4500",
    "orchid": "#da70d6",
    "palegoldenrod": "#eee8aa",
    "palegreen": "#98fb98",
    "paleturquoise": "#afeeee",
    "palevioletred": "#db7093",
    "papayawhip": "#ffefd5",
    "peachpuff": "#ffdab9",
    "peru": "#cd853f",
    "pink": "#ffc0cb",
    "plum": "#dda0dd",
    "powderblue": "#b0e0e6",
    "purple": "#800080",
    "rebeccapurple": "#663399",
    "red": "#ff0000",
    "rosybrown": "#bc8f8f",
    "royalblue": "#4169e1",
    "saddlebrown": "#8b4513",
    "salmon": "#fa8072",
    "sandybrown": "#f4a460",
    "seagreen": "#2e8b57",
    "seashell": "#fff5ee",
    "sienna": "#a0522d",
    "silver": "#c0c0c0",
    "skyblue": "#87ceeb",
    "slateblue": "#6a5acd",
    "slategray": "#708090",
    "slategrey": "#708090",
    "snow": "#fffafa",
    "springgreen": "#00ff7f",
    "steelblue": "#4682b4",
    "tan": "#d2b48c",
    "teal": "#008080",
    "thistle": "#d8bfd8",
    "tomato": "#ff6347",
    "turquoise": "#40e0d0",
    "violet": "#ee82ee",
    "wheat": "#f5deb3",
    "white": "#ffffff",
    "whitesmoke": "#f5f5f5",
    "yellow": "#ffff00",
    "yellowgreen": "#9acd32",
}

# Names the panel colour matcher does not know (aliases), and two names it places elsewhere.
_PANEL_SKIPPED = frozenset(
    {
        "cyan",
        "magenta",
        "rebeccapurple",
        "grey",
        "darkgrey",
        "dimgrey",
        "lightgrey",
        "darkslategrey",
        "lightslategrey",
        "slategrey",
    }
)
_PANEL_OVERRIDES: dict[str, tuple[int, int, int]] = {
    "orange": (255, 128, 0),
    "paleturquoise": (174, 238, 238),
}

# Background colour of each ADF panel type; a wiki panel gets the type nearest its bgColor.
PANEL_TYPE_RGB: dict[str, tuple[int, int, int]] = {
    "info": (222, 235, 255),
    "note": (234, 230, 255),
    "success": (227, 252, 239),
    "warning": (255, 250, 230),
    "error": (255, 235, 230),
}
# The bgColor written back for each panel type (ADF -> wiki).
PANEL_TYPE_HEX: dict[str, str] = {
    name: "#{:02x}{:02x}{:02x}".format(*rgb) for name, rgb in PANEL_TYPE_RGB.items()
}

_HEX = re.compile(r"#([0-9a-f]{3}){1,2}")
_RGB_WORD = re.compile(r"rgba?\(")
_RGB_NUMBERS = re.compile(r"(0?\.?[0-9]{1,3})%?\b")
_PANEL_HEX_SHORT = re.compile(r"#?([a-fA-F\d])([a-fA-F\d])([a-fA-F\d])")
_PANEL_HEX_LONG = re.compile(r"#?([a-fA-F\d]{2})([a-fA-F\d]{2})([a-fA-F\d]{2})")
_PANEL_RGB = re.compile(r"#?rgb\((\d+),\s*(\d+),\s*(\d+)\)")


def _hex_to_rgb(value: str) -> tuple[int, int, int]:
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def _panel_name_rgb(name: str) -> tuple[int, int, int] | None:
    if name in _PANEL_OVERRIDES:
        return _PANEL_OVERRIDES[name]
    if name in _PANEL_SKIPPED or name not in CSS_NAMED_COLOURS:
        return None
    return _hex_to_rgb(CSS_NAMED_COLOURS[name])


def normalize_hex_colour(colour: str | None) -> str | None:
    """Turn a wiki colour (``red``, ``#F00``, ``rgb(1,2,3)``) into ``#rrggbb``; None if unknown."""
    if not colour:
        return None
    value = colour.strip().lower()
    if _HEX.fullmatch(value):
        if len(value) == 4:
            value = "#" + "".join(c + c for c in value[1:])
        return value
    if _RGB_WORD.search(value):
        numbers = _RGB_NUMBERS.findall(value)
        if len(numbers) < 3:
            return None
        r, g, b = (int(float(n)) & 0xFF for n in numbers[:3])
        return f"#{r:02x}{g:02x}{b:02x}"
    if value == "default":
        return None
    return CSS_NAMED_COLOURS.get(value)


def _panel_rgb(colour: str | None) -> tuple[int, int, int] | None:
    if colour is None:
        return None
    if m := _PANEL_HEX_SHORT.fullmatch(colour):
        return (int(m[1] * 2, 16), int(m[2] * 2, 16), int(m[3] * 2, 16))
    if m := _PANEL_HEX_LONG.fullmatch(colour):
        return (int(m[1], 16), int(m[2], 16), int(m[3], 16))
    if m := _PANEL_RGB.fullmatch(colour):
        return (int(m[1]), int(m[2]), int(m[3]))
    return _panel_name_rgb(colour)


def panel_type_for(bg_colour: str | None) -> str:
    """The ADF panel type whose colour is nearest to a wiki panel's ``bgColor`` (default info)."""
    rgb = _panel_rgb(bg_colour)
    if rgb is None:
        return "info"
    best, best_distance = "info", None
    for name, ref in PANEL_TYPE_RGB.items():
        distance = sum((a - b) ** 2 for a, b in zip(ref, rgb, strict=True))
        if best_distance is None or distance < best_distance:
            best, best_distance = name, distance
    return best
