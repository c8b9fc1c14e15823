"""The agent console: server-rendered pages at /console for partners' call-center agents.

Kept free of imports here so the endpoint names (gateway.console.endpoints) can be read without the web layer.
"""
