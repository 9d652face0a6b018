"""An installed app for the tests: its plugin modules are found by autodiscovery."""
