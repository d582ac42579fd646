-- wrk: MakeMeSuperstar as JSON (one song and a cover, offline providers).
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"genre": "synthwave", "theme": "benchmark nights", "songsCount": 1}'
