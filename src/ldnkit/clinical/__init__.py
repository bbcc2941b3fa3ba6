"""The pure clinical core: typed models, screening, titration, response-guided advice.

Nothing here does I/O or reads the clock: dates are inputs, the evidence base is an argument
(defaulting to the bundled one), and results are plain typed values a shell can render or store.
"""
