-- ListAlbums pages newest first.
CREATE INDEX albums_newest ON albums (create_time DESC, id DESC);
