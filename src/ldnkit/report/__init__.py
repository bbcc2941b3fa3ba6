"""Reports: plots (matplotlib SVG/PNG) and report assembly."""
