//! The offline lyricist's songbook: lines per genre, grouped by rhyme.
//!
//! Every line is written whole, so it reads as a line of a song and not as a template
//! with a word forced into it. Placeholders bring the client's theme in:
//! `{motif}` (the theme, or its key words when it is long), `{Motif}` (capitalised),
//! `{kw}` (one key word), `{Kw}` (capitalised) and `{genre}`.
//!
//! Lines in one group end in the same sound, so any two of them make a rhyming couplet.

/// The lines and shapes of one genre.
pub struct Flavour {
    /// Title patterns.
    pub titles: &'static [&'static str],
    /// Chorus hooks: the line a chorus opens and closes with.
    pub hooks: &'static [&'static str],
    /// Verse and chorus lines, in groups that rhyme.
    pub rhymes: &'static [&'static [&'static str]],
    /// Bridge lines, in groups that rhyme.
    pub bridges: &'static [&'static [&'static str]],
    /// Ad-libs sung after a line, for genres that have them.
    pub adlibs: &'static [&'static str],
}

/// Picks the flavour for a genre: gangsta rap, heavy metal and Polish disco polo have
/// their own; every other genre gets the general songbook, which names the genre.
pub fn for_genre(genre_key: &str) -> &'static Flavour {
    let has = |words: &[&str]| words.iter().any(|word| genre_key.contains(word));
    if has(&["rap", "hip hop", "hip-hop", "trap", "drill", "gangsta"]) {
        &RAP
    } else if has(&["metal", "rock", "punk", "grind", "thrash"]) {
        &METAL
    } else if has(&["disco", "polo"]) {
        &DISCO_POLO
    } else {
        &GENERAL
    }
}

/// Gangsta rap: the street, the hustle, the crown.
pub static RAP: Flavour = Flavour {
    titles: &[
        "{Motif}",
        "Streets of {Kw}",
        "{Kw} on the Block",
        "Paid in {Kw}",
        "Crown of {Kw}",
    ],
    hooks: &[
        "{Motif}, yeah, {motif}!",
        "We run {kw}, we run this town!",
        "Say it loud for {motif}!",
        "This one's for {kw}, this one's for the crew!",
    ],
    rhymes: &[
        &[
            "Came up from nothing on a cold {kw} street",
            "Every word about {motif} rides a heavy beat",
            "They talk a lot of talk but they never feel the heat",
            "Now I'm living {kw} and I never taste defeat",
            "Got the whole town moving to the rhythm of my feet",
        ],
        &[
            "Started out with {kw} on the corner of the block",
            "Every second counts, I'm racing with the clock",
            "Built {motif} from the bottom, solid as a rock",
            "Twenty-four seven and the hustle never stops",
        ],
        &[
            "Now the whole city knows that {kw} is my name",
            "Playing it for keeps, this ain't no game",
            "{Motif} in my chest like an open flame",
            "Never chased the fame but the fame still came",
        ],
        &[
            "Started with a dream and a little bit of cash",
            "{Motif} in the rear-view, gone in a flash",
            "Everything I built, they could never make it crash",
            "Money for the {kw} in a shoebox stash",
        ],
        &[
            "Out here chasing {kw} every single night",
            "Camera on my face, I was born for the light",
            "If they come for {motif}, we're ready for the fight",
            "Keep my circle small and I keep my story tight",
        ],
        &[
            "From the bottom of the map to the top of the town",
            "{Motif} is the reason that I wear the crown",
            "Every time they doubt me, I don't ever back down",
            "Heavy is the head with the {kw} weighing down",
        ],
    ],
    bridges: &[
        &[
            "When the lights go low and the city sleeps",
            "I still hear {motif} in the promises I keep",
            "Every scar I carry cuts a little deep",
        ],
        &[
            "Mama, look at me, I made it out the cold",
            "{Motif} in my heart is worth more than gold",
            "Every word is true, every story that I told",
        ],
    ],
    adlibs: &["(yeah)", "(uh)", "(facts)", "(let's go)"],
};

/// Heavy metal: fire, steel and thunder.
pub static METAL: Flavour = Flavour {
    titles: &[
        "Hymn of {Kw}",
        "{Kw} Unchained",
        "Throne of {Kw}",
        "Ride the {Kw}",
        "{Motif}",
    ],
    hooks: &[
        "{Motif}! {Motif}!",
        "Hail {kw}, forever and ever!",
        "We are {kw}! We will never die!",
        "Raise your horns for {motif}!",
    ],
    rhymes: &[
        &[
            "Through the ashes of {kw} we march into the fire",
            "Hear the war drums rising like a burning choir",
            "We will tear down every wall of their empire",
            "{Motif} on the wind, climbing ever higher",
            "Bound to {kw} upon a funeral pyre",
        ],
        &[
            "Blood moon rising on the edge of night",
            "Steel and thunder, {motif} is our right",
            "We were forged in {kw}, we were born to fight",
            "Blind the sky with a storm of light",
        ],
        &[
            "Carved our names in {kw} and stone",
            "No king, no god, no empty throne",
            "{Motif} rattling in my bone",
            "We ride together, never alone",
        ],
        &[
            "Fists of iron, hearts of steel",
            "Every wound of {kw} we feel",
            "Break the chains and break the seal",
            "{Motif} turning on the wheel",
        ],
        &[
            "Riders of {kw} from beyond the grave",
            "Lost in {motif}, crashing like a wave",
            "Heed the call of the fallen and the brave",
            "Deep inside the mountain, in the dragon's cave",
        ],
        &[
            "Lightning splits the sky, we ride into the storm",
            "{Motif} taking shape, a demon in its form",
            "Cold as {kw}, and yet our blood is warm",
        ],
    ],
    bridges: &[
        &[
            "In the silence I can hear the thunder call",
            "{Motif} will stand when the empires fall",
            "One last stand, and we give it all",
        ],
        &[
            "Darkness falls on {kw} tonight",
            "Hold the line and hold the light",
            "Till the dawn we fight, we fight",
        ],
    ],
    adlibs: &[],
};

/// Polish disco polo: dancing till dawn, in Polish, with the client's theme in it.
pub static DISCO_POLO: Flavour = Flavour {
    titles: &[
        "{Motif} do rana",
        "Gwiazda {Kw}",
        "Miłość i {kw}",
        "Bawmy się, {kw}!",
        "{Motif}",
    ],
    hooks: &[
        "Hej, {motif}, hej!",
        "Bawmy się do rana, {kw}!",
        "Disco, disco, {motif}!",
        "Ręce w górę, {kw}, la la la!",
    ],
    rhymes: &[
        &[
            "Ty jesteś moja jedyna, kochana",
            "Będziemy tańczyć razem aż do rana",
            "Ze wszystkich dziewczyn ty jesteś wybrana",
            "Cała sala dziś jest w {kw} zakochana",
            "{Motif} — to nasza piosenka grana",
        ],
        &[
            "Gwiazdy nad nami, jasna letnia noc",
            "W twoich oczach, mała, tajemnicza moc",
            "Przy {kw} wołam głośno o pomoc",
        ],
        &[
            "Oddałem ci, kochana, moje serce",
            "Chcę cię widzieć, mała, coraz więcej",
            "Trzymam {kw} mocno w mojej ręce",
        ],
        &[
            "Ona tańczy, moja piękna dziewczyna",
            "Słodka jak {kw}, słodka jak malina",
            "Muzyka gra i zabawa się zaczyna",
        ],
        &[
            "Znowu przyszło do nas gorące lato",
            "{Motif}? Nikt nie powie nie na to!",
            "Tańczy mama i tańczy z nami tato",
        ],
    ],
    bridges: &[
        &[
            "Na na na, na na na, hej!",
            "{Motif}, zaśpiewaj ze mną, hej!",
            "Cała sala śpiewa coraz głośniej, hej!",
        ],
        &[
            "Jedna noc, jeden taniec, jedna ty",
            "Przez {kw} spełniają się sny",
            "Tylko ty, tylko ja, tylko my",
        ],
    ],
    adlibs: &["(hej!)", "(la la la)"],
};

/// Every other genre: a pop songbook that names the genre.
pub static GENERAL: Flavour = Flavour {
    titles: &[
        "{Motif}",
        "Songs for {Kw}",
        "{Kw} Tonight",
        "Heart of {Kw}",
        "The {Kw} Song",
    ],
    hooks: &[
        "Oh, {motif}, oh-oh!",
        "This is our {genre} song for {kw}!",
        "{Motif}, {motif}, sing it with me!",
        "Hey now, {kw}, hey now!",
    ],
    rhymes: &[
        &[
            "I wrote this {genre} song straight from the heart",
            "Everything about {kw} is a work of art",
            "We were only kids when it came to the start",
            "{Motif} is the thing that won't fall apart",
        ],
        &[
            "Close my eyes and {motif} is a dream",
            "Nothing in this world is ever what it seems",
            "Running with {kw}, we're a little team",
            "Headlights in the rain and the city's gleam",
        ],
        &[
            "Dancing with {kw} underneath the light",
            "Holding on to {motif} every single night",
            "Everything is gonna be alright",
            "Turn the radio up and hold me tight",
        ],
        &[
            "Walking home with {kw} in the summer rain",
            "Say my name and I will say it back again",
            "{Motif} keeps running through my veins",
            "Every tear we cried was not in vain",
        ],
        &[
            "Sing it out for {motif}, come what may",
            "We'll remember {kw} when we're old and grey",
            "Tomorrow's just a heartbeat away",
        ],
        &[
            "Lift me up with {kw}, take me higher",
            "{Motif} burning like a summer fire",
            "You're the only thing that I desire",
        ],
    ],
    bridges: &[
        &[
            "And if the music fades away",
            "{Motif} is here to stay",
            "We will always find our way",
        ],
        &[
            "One more time for {kw}",
            "One more time, just me and you",
            "One more time, and it feels brand new",
        ],
    ],
    adlibs: &[],
};
