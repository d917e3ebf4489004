"""Models: embedders, classifier heads, their saved weights and model cards."""
