"""The link to WeChat: the one module that imports wechaty (transport: connect, TLS, watchdog, reconnect) and the
wechaty root CA it checks gateways against (ca)."""
