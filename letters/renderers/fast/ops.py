"""Drawing operations: what laying out a box produces, drawn on the page later.

A :class:`Frag` is a laid-out box: its height and its operations, with coordinates relative
to the box's top-left corner, y growing downwards, all in points:

- ``("t", x, baseline, text, font, size, colour)``: text;
- ``("r", x, top, width, height, colour)``: a filled rectangle;
- ``("l", x1, y1, x2, y2, line width, colour)``: a stroked line;
- ``("b", x, top, module width, height, modules)``: barcode bars.

>>> shift([("r", 1.0, 2.0, 3.0, 4.0, "#000000")], 10, 20)
[('r', 11.0, 22.0, 3.0, 4.0, '#000000')]
"""

from __future__ import annotations

from dataclasses import dataclass

Op = tuple[object, ...]


@dataclass
class Frag:
    height: float
    ops: list[Op]


def shift(ops: list[Op], dx: float, dy: float) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        kind = op[0]
        if kind == "t" or kind == "b" or kind == "r":
            out.append((kind, op[1] + dx, op[2] + dy, *op[3:]))  # type: ignore[operator]
        else:  # "l"
            out.append(("l", op[1] + dx, op[2] + dy, op[3] + dx, op[4] + dy, *op[5:]))  # type: ignore[operator]
    return out
