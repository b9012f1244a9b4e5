"""Quality checks of a stored asset, on the cpu queue: the OCR text check, the brand checks
(palette, logo, safe zone, weight), the overlay check, and their verdicts (checks)."""
