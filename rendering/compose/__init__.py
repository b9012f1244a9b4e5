"""Recipe in, words and sizes out: prompt templates (sandboxed), recipes, formats and their
buckets, copy rules, fonts, line breaking, contrast and the typeset overlay. No torch."""
