"""Layers shared by the models: masks, attention scorers, recurrent stacks, CBHG, prenet."""
