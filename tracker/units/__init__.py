"""The organisation tree: companies, county companies, supply stations, halls and teams."""
