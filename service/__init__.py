"""The HTTP front end. Imports protocols/ and the supervisor's addresses, never an actor's insides."""
