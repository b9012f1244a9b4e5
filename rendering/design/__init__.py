"""The layered design: schema, compositor, layouts.

An asset version is rendered from a design document (``schema.py``: the versioned JSON
contract, its validation and hash; ``schema_fields.py`` and ``schema_layers.py`` check its
values and layers), which lists layers bottom to top: a background (a brand fill or a rendered
image), the real product cut-out, shapes, text and the logo. The layout engine (``layouts.py``,
with ``layout_engines.py``, ``layout_column.py``, ``layout_context.py``, ``layout_fit.py`` and
``layout_classes.py``)
writes these documents for each format, and the compositor (``compositor.py``, drawing with
``layer_draw.py`` and ``text_draw.py``) turns a document and its input files into deterministic
PNG bytes on the CPU (``layer_images.py``: each layer alone, for the asset page and the
layered export); ``fidelity.py`` proves that the product's pixels in the result are the
catalog cut-out's. ``recipe.py`` turns a composed asset's recipe into its design and input
files; ``scene_geometry.py`` plans one painted scene for every format of a product and cuts
each format from it, and ``scene_recipe.py`` writes the scene's recipes and the cut.
"""
