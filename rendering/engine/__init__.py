"""The diffusers side: load Qwen-Image (generate) and Qwen-Image-Edit (edit) with
``from_pretrained``, run them, the memory ladder, speed options, the tiny offline builders and
fault injection. Imports torch; nothing in the web process imports this package."""
