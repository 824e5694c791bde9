"""The command line: argument parsing, input lines, the journal, the terminal, and
the demo.
"""
