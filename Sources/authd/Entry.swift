import ArgumentParser
import Configuration
import Hummingbird
print("x")
