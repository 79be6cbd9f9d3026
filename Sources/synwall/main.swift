print("synwall")
