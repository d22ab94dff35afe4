package main

import "github.com/tend-app/tend/keys"

type keysKey = keys.Key

var keysParse = keys.Parse
