#!/usr/bin/env python3
"""Prints why a nested-arm64 case cannot run and exits 77 (SKIP)."""
import sys

print("SKIP: " + (sys.argv[1] if len(sys.argv) > 1 else "no aarch64 cross build"))
sys.exit(77)
