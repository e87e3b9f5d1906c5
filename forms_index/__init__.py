"""forms_index: the bilingual search over the government forms catalogue.

A library: explicit arguments, no environment reads (except ``settings``, used only by
entry points), no printing. See ``docs/contracts.md`` for the public surface.
"""
