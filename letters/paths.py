"""Where the templates, their assets and the stylesheet live inside the package."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent / "templates"
ASSET_DIR = TEMPLATE_DIR / "assets"
STYLESHEET = TEMPLATE_DIR / "letter.css"
