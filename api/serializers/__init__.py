"""API representations. They parse and present; services apply the rules.

Each module covers one concern; import serializers from the module that defines them."""
