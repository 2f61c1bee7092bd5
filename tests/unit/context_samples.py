"""A small multi-language workspace for the context engine's tests (written into tmp dirs)."""

from __future__ import annotations

from pathlib import Path

FILES: dict[str, str] = {
    "pkg/__init__.py": "from .geometry import Point, area_of_circle\n",
    "pkg/geometry.py": '''"""Shapes in the plane."""
import math


class Point:
    """A point."""

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def distance_to(self, other: "Point") -> float:
        return math.hypot(self.x - other.x, self.y - other.y)


def area_of_circle(radius: float) -> float:
    """Area of a circle of the given radius."""
    return math.pi * radius ** 2
''',
    "pkg/units.py": "METERS_PER_MILE = 1609.344\n\n\ndef miles_to_meters(miles):\n"
    "    return miles * METERS_PER_MILE\n",
    "app/main.py": """from pkg.geometry import Point
import pkg.units as units


def run():
    start = Point(0, 0)
    end = Point(3, 4)
    distance = start.distance_to(end)
    return units.miles_to_meters(distance)
""",
    "web/utils/format.js": """/** Format a price in euros. */
export function formatPrice(cents) {
  return (cents / 100).toFixed(2) + " EUR";
}
""",
    "web/app.js": """import { formatPrice } from "./utils/format";

export function render(item) {
  return item.name + ": " + formatPrice(item.cents);
}
""",
    "web/models.ts": """export interface User {
  id: number;
  name: string;
}

export class UserStore {
  private users: User[] = [];
  add(user: User): void {
    this.users.push(user);
  }
}
""",
    "web/view.tsx": """import { UserStore } from "./models";

export function UserList({ store }: { store: UserStore }) {
  return <ul>{store.users.length}</ul>;
}
""",
    "go/util/strings.go": """package util

// Reverse returns s reversed.
func Reverse(s string) string {
\tr := []rune(s)
\tfor i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
\t\tr[i], r[j] = r[j], r[i]
\t}
\treturn string(r)
}
""",
    "go/main.go": """package main

import "example.com/proj/util"

func main() {
\tprintln(util.Reverse("abc"))
}
""",
    "rs/src/shapes.rs": """pub struct Circle {
    pub radius: f64,
}

impl Circle {
    pub fn area(&self) -> f64 {
        std::f64::consts::PI * self.radius * self.radius
    }
}
""",
    "rs/src/main.rs": """mod shapes;
use crate::shapes::Circle;

fn main() {
    let c = Circle { radius: 1.0 };
    println!("{}", c.area());
}
""",
    "java/com/acme/Inventory.java": """package com.acme;

public class Inventory {
    private int count;

    public void addItem(String name, int quantity) {
        count += quantity;
    }
}
""",
    "java/com/acme/App.java": """package com.acme;

import com.acme.Inventory;

public class App {
    public static void main(String[] args) {
        Inventory inv = new Inventory();
        inv.addItem("apple", 3);
    }
}
""",
    "c/vec.h": """#ifndef VEC_H
#define VEC_H
struct vec { int *data; int len; };
int vec_push(struct vec *v, int value);
#endif
""",
    "c/main.c": """#include "vec.h"

int main(void) {
    struct vec v = {0};
    vec_push(&v, 1);
    return 0;
}
""",
    "cpp/matrix.hpp": """class Matrix {
public:
    Matrix multiply(const Matrix &other) const;
    int rows() const { return rows_; }
private:
    int rows_;
};
""",
    "cpp/main.cpp": """#include "matrix.hpp"

int main() {
    Matrix a;
    return a.rows();
}
""",
    "notes/readme.txt": "plain text, no grammar\n",
    ".env": "API_TOKEN=sk-live-DO-NOT-LEAK-4242\n",
}


def write_workspace(root: Path, files: dict[str, str] | None = None) -> Path:
    for relative, text in (files or FILES).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
