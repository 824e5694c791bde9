"""The command line: commands derived from the resource descriptions (commands), the
parser and dispatch (app), reading (export, get), writing (the bulk path, with its input
lines, journal and ordering), dry runs, the fake server as a process (serve), the
terminal, and the demo.
"""
