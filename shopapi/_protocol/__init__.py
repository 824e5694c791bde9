"""Sans-I/O protocol: request building, answer reading, error bodies, retry
decisions, limits and adaptive concurrency. Nothing here touches the network.
"""
