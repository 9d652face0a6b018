"""``beeflow_asyncapi``: the contract document."""
