"""The violations catalog: the categories of content 436-FZ restricts by age, with their age
bands, legal basis and the analyzer's lexicons. Loaded from Excel, edited through the API."""
