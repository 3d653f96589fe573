#!/usr/bin/env python
"""Django's manage.py for developers; `shegong` is the same command, installed in the venv."""

from shegong.manage import main

if __name__ == "__main__":
    main()
