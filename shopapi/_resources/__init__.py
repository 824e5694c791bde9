"""The API's resources as data: one module per resource, holding its models and
the descriptions of its endpoints.
"""
