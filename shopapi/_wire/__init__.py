"""The rules of the wire: field kinds and metadata, .NET timestamps, enums, and
the constraints checked before sending. Pure: no I/O, no format library.
"""
