print("sfpg")
