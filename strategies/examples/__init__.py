"""Example user strategies; copy one to start your own."""
