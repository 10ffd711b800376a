"""The shared vocabulary of Lutra: jobs, tools and errors. Imports nothing from the project."""
