"""Safety policy and checks for kratom-qa. Imports nothing from `bot`."""
