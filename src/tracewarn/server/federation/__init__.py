"""Member side of federation: the gateway client, the upload job and the download/import job."""
