"""The session: the aiohttp transport (the one place aiohttp errors are
translated) and the client that sequences the pure layers.
"""
