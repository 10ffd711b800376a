"""The web app's server side: the catalogue, forms generated from tool settings models, templates, assets."""
