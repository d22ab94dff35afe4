package main

import "github.com/tend-app/tend/internal/keys"

type keysKey = keys.Key

var keysParse = keys.Parse
