echo users
