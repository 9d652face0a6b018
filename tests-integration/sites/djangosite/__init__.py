"""The Django test site, served by daphne; an installed app whose ws/actions.py is autodiscovered."""
