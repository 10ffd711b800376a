"""The workers: one long-lived actor per tool family. Imports protocols/, never service/."""
