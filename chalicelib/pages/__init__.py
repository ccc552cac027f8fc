"""Pages CMS: pages with ordered content items whose views are counted exactly."""
