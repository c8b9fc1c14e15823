"""What every web request goes through, API and agent console alike: body guards, text a store can hold,
problem+json answers."""
